import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonymousRegions } from '../../../src/runtime/huge-pages.js';

test('anonymousRegions: private writable anonymous memory only (malloc\'s), not files, stacks or read-only maps', () => {
  const maps = [
    '55d4c0a00000-55d4c0c00000 rw-p 00000000 00:00 0                          [heap]',
    '7f0000000000-7f0010000000 rw-p 00000000 00:00 0 ',
    '7f0010000000-7f0011000000 rw-p 00000000 00:00 0',
    '7f0020000000-7f0021000000 r--p 00000000 00:00 0 ',
    '7f0030000000-7f0031000000 rw-s 00000000 00:01 1234                       /dev/shm/x',
    '7f0040000000-7f0041000000 rw-p 00002000 08:01 98765                      /usr/lib/libonnxruntime.so.1',
    '7f0050000000-7f0051000000 rw-p 00000000 00:00 0                          [anon:v8]',
    '7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]',
    '7f0060000000-7f0061000000 rw-p 00000000 08:01 0123                       /tmp/odd',
  ].join('\n');
  assert.deepEqual(anonymousRegions(maps).map((r) => [r.key, Number(r.end - r.start)]), [
    ['55d4c0a00000-55d4c0c00000', 2 * 2 ** 20],
    ['7f0000000000-7f0010000000', 256 * 2 ** 20],
    ['7f0010000000-7f0011000000', 16 * 2 ** 20],
    ['7f0050000000-7f0051000000', 16 * 2 ** 20],
  ]);
});
