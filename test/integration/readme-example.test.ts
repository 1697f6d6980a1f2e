import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp } from '../../src/app.js';

const root = join(import.meta.dirname, '../..');

function between(text: string, marker: string): string {
  const m = new RegExp(`<!-- ${marker}:start -->([\\s\\S]*?)<!-- ${marker}:end -->`).exec(text);
  assert.ok(m, `README has a ${marker} block`);
  return m[1]!;
}

test('readme: the curl example answers exactly what the README says', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const curl = between(readme, 'readme-curl');
  const body = /-d '([\s\S]*?)'\n/.exec(curl)![1]!;
  const expected = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(between(readme, 'readme-response'))![1]!) as unknown;
  const app = await startApp({ repository: join(root, 'examples/models'), host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20, logger: false });
  t.after(() => app.close());
  const url = /curl -s (\S+)/.exec(curl)![1]!.replace('http://127.0.0.1:8000', app.url);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), expected);
});
