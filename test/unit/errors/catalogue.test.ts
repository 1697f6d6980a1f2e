import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERRORS } from '../../../src/errors.js';

test('errors: docs/errors.md lists exactly the codes and statuses of the catalogue', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map<string, number>();
  for (const m of doc.matchAll(/^\| `(MP_[A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1]!, Number(m[2]));
  assert.deepEqual(Object.fromEntries([...documented].sort()), Object.fromEntries(Object.entries(ERRORS).sort()));
});
