import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { call, startSearchServer, tempDir } from '../../helpers/search-server.js';

const root = join(import.meta.dirname, '..', '..', '..');
const transcript = JSON.parse(readFileSync(join(root, 'examples/evidence/visit-transcript.json'), 'utf8')) as { segments: unknown[] };
const note = readFileSync(join(root, 'examples/evidence/visit-note.txt'), 'utf8');

interface Sentence {
  text: string;
  supported: boolean;
  score: number;
  start: number;
  end: number;
  evidence: { segmentIds: string[]; spans: { segmentId: string; start: number; end: number; text: string }[]; startTime: number | null }[];
}

function find(sentences: Sentence[], prefix: string): Sentence {
  const s = sentences.find((x) => x.text.startsWith(prefix));
  assert.ok(s, `no sentence starting '${prefix}'`);
  return s;
}

test('evidence: the example visit linked over HTTP: evidence spans, times, supported flags', async (t) => {
  const { url } = await startSearchServer(t);
  const r = await call(url, 'POST', '/v1/evidence/link', { source: transcript, summary: note });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const sentences = r.body.sentences as Sentence[];
  assert.equal(sentences.length, 12); // "Plan:" is a heading, not a claim
  for (const s of sentences) {
    assert.equal(note.slice(s.start, s.end), s.text);
    assert.ok(s.score >= 0 && s.score <= 1);
    for (const e of s.evidence) for (const sp of e.spans) {
      const seg = r.body.segments.find((x: { id: string }) => x.id === sp.segmentId);
      assert.equal(seg.text.slice(sp.start, sp.end), sp.text);
    }
  }
  // Gold links (by hand) for sentences of the note.
  const gold: [string, string][] = [
    ['He had a fever', 't6'], ['He denies shortness', 't8'], ['Former smoker', 't10'], ['He takes lisinopril', 't16'],
    ['On exam there are crackles', 't18'], ['Chest X-ray today', 't21'], ['Follow-up in one week', 't26'],
  ];
  for (const [prefix, seg] of gold) {
    const s = find(sentences, prefix);
    assert.ok(s.evidence[0]!.segmentIds.includes(seg), `'${prefix}' → ${JSON.stringify(s.evidence[0]!.segmentIds)}, want ${seg}`);
    assert.equal(s.supported, true, `'${prefix}' should be supported (score ${s.score})`);
    assert.equal(typeof s.evidence[0]!.startTime, 'number');
  }
  // The note says 10 days; the doctor said seven.
  const wrong = find(sentences, 'Amoxicillin three times daily for 10 days');
  assert.equal(wrong.supported, false);
  assert.ok(wrong.score < find(sentences, 'Chest X-ray today').score);

  const bad = await call(url, 'POST', '/v1/evidence/link', { source: { segments: [] }, summary: 'x' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /source/);
  const dup = await call(url, 'POST', '/v1/evidence/link', { source: { segments: [{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }] }, summary: 'x' });
  assert.equal(dup.status, 400);
  assert.match(dup.body.error, /'a' is used twice/);
});

test('evidence: the HTML view renders in headless Chromium with supported and unsupported sentences highlighted', async (t) => {
  const { url } = await startSearchServer(t);
  const res = await fetch(`${url}/v1/evidence/view`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: transcript, summary: note }) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.setContent(html);
  assert.equal(await page.locator('li[data-i]').count(), 12);
  assert.ok((await page.locator('li.no').count()) >= 1);
  assert.ok((await page.locator('mark.ev').count()) >= 10);
  // Hovering a sentence outlines its evidence.
  await page.locator('li[data-i="1"]').hover();
  assert.ok((await page.locator('mark.hot').count()) >= 1);
  const dir = await tempDir(t);
  const png = join(dir, 'evidence.png');
  await page.screenshot({ path: png, fullPage: true });
  // The screenshot really shows the green (supported) and red (unsupported) sentence bars.
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  let green = 0;
  let red = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
    if (Math.abs(r - 0x2f) < 12 && Math.abs(g - 0x9e) < 12 && Math.abs(b - 0x44) < 12) green++;
    if (Math.abs(r - 0xe0) < 12 && Math.abs(g - 0x31) < 12 && Math.abs(b - 0x31) < 12) red++;
  }
  assert.ok(green > 500 && red > 100, `green ${green}, red ${red} pixels`);
});

test('evidence: CLI `modelplane evidence link` prints each sentence with its evidence and writes the HTML view', async (t) => {
  const dir = await tempDir(t);
  const html = join(dir, 'view.html');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'evidence', 'link', '--source', join(root, 'examples/evidence/visit-transcript.json'), '--summary', join(root, 'examples/evidence/visit-note.txt'), '--html', html], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /✓ \d\.\d\d {2}2\. He had a fever up to 38\.2/);
  assert.match(r.stdout, /← \[t5\+t6 DOCTOR\/PATIENT @\d+\.\ds\]/);
  assert.match(r.stdout, /✗ \d\.\d\d {2}\d+\. Amoxicillin three times daily for 10 days/);
  assert.match(r.stdout, /of 12 sentences supported/);
  assert.match(readFileSync(html, 'utf8'), /<mark class="ev"/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'evidence', 'link', '--source', join(dir, 'missing.json'), '--summary', html], { cwd: root, encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
});
