import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHalfBits, toHalfBits } from '../../../src/tensor/fp16.js';
import { decodeJsonData, encodeJsonData } from '../../../src/tensor/json-codec.js';
import { decodeBinaryData, encodeBinaryData } from '../../../src/tensor/binary-codec.js';
import { MpError } from '../../../src/errors.js';

test('fp16: known bit patterns round-trip', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 0x0001], [0.333251953125, 0x3555],
    [Infinity, 0x7c00], [-Infinity, 0xfc00],
  ];
  for (const [value, bits] of cases) {
    assert.equal(toHalfBits(value), bits, `toHalfBits(${value})`);
    assert.equal(fromHalfBits(bits), value, `fromHalfBits(${bits})`);
  }
  assert.equal(toHalfBits(1e6), 0x7c00, 'overflow saturates to Inf');
  assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  // Round to nearest even: 1 + 2^-11 is halfway between 1 and the next half; ties to even (1).
  assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00);
  assert.equal(toHalfBits(1 + 3 * 2 ** -11), 0x3c02);
});

test('json codec: nested and flat data decode to the same row-major memory', () => {
  const flat = decodeJsonData('x', 'FP32', 4, [1, 2, 3, 4]);
  const nested = decodeJsonData('x', 'FP32', 4, [[1, 2], [3, 4]]);
  assert.deepEqual(flat, new Float32Array([1, 2, 3, 4]));
  assert.deepEqual(nested, flat);
});

test('json codec: element count and element type errors name the tensor', () => {
  assert.throws(() => decodeJsonData('ids', 'INT32', 3, [1, 2]), (e: unknown) => e instanceof MpError && e.status === 400 && /'ids'.*3 elements.*2/.test(e.message));
  assert.throws(() => decodeJsonData('ids', 'INT32', 2, [1, 'a']), /'ids': INT32 element 1 must be an integer/);
  assert.throws(() => decodeJsonData('ids', 'UINT8', 1, [256]), /out of range/);
  assert.throws(() => decodeJsonData('m', 'BOOL', 1, ['yes']), /must be true or false/);
  assert.throws(() => decodeJsonData('s', 'BYTES', 1, [3]), /BYTES element 0 must be a string/);
  assert.throws(() => decodeJsonData('n', 'FP32', 2, [[1, [2, [3]]]]), /more elements/);
});

test('json codec: 64-bit integers encode exactly', () => {
  const big = new BigInt64Array([9007199254740993n, -5n]);
  assert.equal(encodeJsonData('INT64', big), '[9007199254740993,-5]');
  assert.equal(encodeJsonData('BOOL', new Uint8Array([1, 0])), '[true,false]');
  assert.equal(encodeJsonData('FP32', new Float32Array([NaN, 1])), '[null,1]');
  assert.equal(encodeJsonData('BYTES', [new TextEncoder().encode('hé')]), '["hé"]');
});

test('binary codec: BYTES length prefixes round-trip and bad sizes are refused', () => {
  const items = [new TextEncoder().encode('hello'), new Uint8Array([0, 255]), new Uint8Array(0)];
  const wire = encodeBinaryData('BYTES', items);
  assert.equal(wire.byteLength, 3 * 4 + 7);
  assert.deepEqual(decodeBinaryData('b', 'BYTES', 3, wire), items.map((i) => Buffer.from(i)));
  assert.throws(() => decodeBinaryData('b', 'BYTES', 2, wire), /more than the shape's 2/);
  assert.throws(() => decodeBinaryData('b', 'BYTES', 4, wire), /4 elements but binary BYTES data has 3/);
  assert.throws(() => decodeBinaryData('b', 'BYTES', 1, Buffer.from([9, 0, 0, 0, 1])), /past the end/);
  assert.throws(() => decodeBinaryData('f', 'FP32', 2, Buffer.alloc(7)), /needs 8 bytes/);
});

test('binary codec: unaligned numeric data is copied, aligned data is a view', () => {
  const backing = Buffer.alloc(13);
  new Float32Array(backing.buffer, backing.byteOffset + 4, 2).set([1.5, -2]);
  const aligned = decodeBinaryData('f', 'FP32', 2, backing.subarray(4, 12)) as Float32Array;
  assert.equal(aligned.buffer, backing.buffer);
  assert.deepEqual(Array.from(aligned), [1.5, -2]);
  const shifted = Buffer.alloc(9);
  backing.copy(shifted, 1, 4, 12);
  const copied = decodeBinaryData('f', 'FP32', 2, shifted.subarray(1)) as Float32Array;
  assert.deepEqual(Array.from(copied), [1.5, -2]);
});

test('exact json: integers beyond 2^53 stay exact as BigInt; everything else parses as JSON.parse does', async () => {
  const { parseJsonExact } = await import('../../../src/tensor/exact-json.js');
  const text = '{"a":[9007199254740993,-9223372036854775808,1.5e300,12,-0,"x\\"9007199254740993"],"b":{"c":true,"d":null},"e":"\\u00e9"}';
  const got = parseJsonExact(text) as { a: unknown[]; b: unknown; e: string };
  assert.deepEqual(got.a, [9007199254740993n, -9223372036854775808n, 1.5e300, 12, -0, 'x"9007199254740993']);
  assert.deepEqual(got.b, { c: true, d: null });
  assert.equal(got.e, 'é');
  for (const bad of ['{', '[1,]', '{"a" 1}', '"open', '[1] x', 'nul']) assert.throws(() => parseJsonExact(bad), SyntaxError, bad);
  assert.deepEqual(decodeJsonData('i', 'INT64', 2, [9007199254740993n, -5]), new BigInt64Array([9007199254740993n, -5n]));
  assert.throws(() => decodeJsonData('i', 'INT64', 1, [2n ** 63n]), /out of range/);
  assert.throws(() => decodeJsonData('u', 'UINT64', 1, [-1]), /out of range/);
  assert.throws(() => decodeJsonData('i', 'INT64', 1, [2 ** 60]), /rounded/);
});
