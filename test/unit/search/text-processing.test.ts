import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitSentences } from '../../../src/search/evidence/sentence-splitter.js';
import { numbersOf, profile } from '../../../src/search/evidence/text-features.js';
import { reciprocalRankFusion } from '../../../src/search/rank-fusion.js';
import { sourceSegments } from '../../../src/search/evidence/source-segments.js';

const texts = (t: string): string[] => splitSentences(t).map((s) => s.text);

test('sentence splitter: abbreviations, decimals, initials and times do not end a sentence', () => {
  assert.deepEqual(texts('Dr. Patel saw him at 9 a.m. on Monday. BP was 140/90, i.e. high. He takes 2.5 mg daily! J. Smith agreed.'), [
    'Dr. Patel saw him at 9 a.m. on Monday.', 'BP was 140/90, i.e. high.', 'He takes 2.5 mg daily!', 'J. Smith agreed.',
  ]);
  assert.deepEqual(texts('"Is that right?" she asked. The U.S. team agreed. No. Not at all.'), ['"Is that right?" she asked.', 'The U.S. team agreed.', 'No.', 'Not at all.']);
});

test('sentence splitter: list items and speaker turns split, markers and capital labels dropped, headings skipped', () => {
  const t = 'Plan:\n- Start lisinopril 10 mg.\n- Recheck in 2 wks\n1. Order labs e.g. CBC.\nDOCTOR: Any pain? PATIENT: No.\nFormer smoker: quit in 2010.';
  assert.deepEqual(texts(t), ['Start lisinopril 10 mg.', 'Recheck in 2 wks', 'Order labs e.g. CBC.', 'Any pain?', 'No.', 'Former smoker: quit in 2010.']);
  for (const s of splitSentences(t)) assert.equal(t.slice(s.start, s.end), s.text);
  assert.deepEqual(texts('A paragraph that\nwraps over lines. And ends.'), ['A paragraph that\nwraps over lines.', 'And ends.']);
});

test('text features: numbers in digits and words, scales and ratios; negation cues', () => {
  assert.deepEqual([...numbersOf('three weeks, 1,200 people, $3.5m, 140/90 and 9:30')].sort(), ['1200', '140/90', '3', '3500000', '30', '9', '9'].filter((v, i, a) => a.indexOf(v) === i).sort());
  assert.equal(profile('The patient denies chest pain.').negated, true);
  assert.equal(profile("I don't smoke").negated, true);
  assert.equal(profile('The patient reports chest pain.').negated, false);
});

test('source segments: speaker lines with timestamps become turns; unlabelled text becomes paragraphs', () => {
  const segs = sourceSegments({ text: '[00:01:05] Alice: Hello there.\ncontinued line\nBob (01:10): Hi.\nAlice: Bye.' });
  assert.deepEqual(segs.map((s) => [s.id, s.speaker, s.start, s.text]), [['s1', 'Alice', 65, 'Hello there. continued line'], ['s2', 'Bob', 70, 'Hi.'], ['s3', 'Alice', null, 'Bye.']]);
  assert.deepEqual(sourceSegments({ text: 'One para.\n\nTwo\npara.' }).map((s) => s.text), ['One para.', 'Two para.']);
});

test('source segments: SRT and WebVTT cues become timed segments with speakers', () => {
  const srt = '1\n00:00:01,000 --> 00:00:04,500\nAlice: We ship on Friday.\n\n2\n00:00:05,000 --> 00:00:07,000\nOnly if QA signs off.\n';
  assert.deepEqual(sourceSegments({ text: srt }).map((s) => [s.speaker, s.start, s.end, s.text]), [['Alice', 1, 4.5, 'We ship on Friday.'], [null, 5, 7, 'Only if QA signs off.']]);
  const vtt = 'WEBVTT\n\n00:01.000 --> 00:03.000 align:start\n<v Dr. Lee>Any fever?</v>\n\n00:03.500 --> 00:05.000\n<v Pat>No.</v>\n';
  assert.deepEqual(sourceSegments({ text: vtt }).map((s) => [s.speaker, s.start, s.text]), [['Dr. Lee', 1, 'Any fever?'], ['Pat', 3.5, 'No.']]);
});

test('rank fusion: weighted RRF rewards agreement and honours zero weights', () => {
  const fused = reciprocalRankFusion([{ labels: [1, 2, 3], weight: 1 }, { labels: [4, 2, 5], weight: 1 }], 60);
  assert.equal(fused[0]!.label, 2);
  assert.deepEqual(reciprocalRankFusion([{ labels: [1, 2], weight: 0 }, { labels: [5, 6], weight: 1 }], 60).map((f) => f.label), [5, 6]);
});
