import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';
import { DATATYPES, buildIdentityModel, identityConfig, identityNames, type DataType } from '../../scripts/lib/test-models.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import {
  encodeBinary, exactJsonValues, halfToNumber, infer, outputValues,
  type Element, type InferRequest, type RequestInput, type RequestOutput,
} from '../helpers/v2-client.js';

/** Six JSON-safe values per datatype, including each type's extremes; the identity model must echo them. */
const JSON_VALUES: Record<DataType, Element[]> = {
  BOOL: [true, false, true, true, false, false],
  UINT8: [0, 1, 127, 128, 254, 255],
  UINT16: [0, 1, 32767, 32768, 65534, 65535],
  UINT32: [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1],
  UINT64: [0, 1, 2 ** 32, 2 ** 40 + 3, 12345, 2 ** 53 - 1],
  INT8: [-128, -1, 0, 1, 126, 127],
  INT16: [-32768, -1, 0, 1, 32766, 32767],
  INT32: [-(2 ** 31), -1, 0, 1, 2 ** 31 - 2, 2 ** 31 - 1],
  INT64: [-(2 ** 53 - 1), -1, 0, 1, 2 ** 40, 2 ** 53 - 1],
  // Exactly representable in half precision: the largest normal, the smallest subnormal, a 1/3 approximation.
  FP16: [0, 1.5, -2, 65504, 2 ** -24, 0.333251953125],
  FP32: [0, 1.5, -3.25, 3.4028234663852886e38, 1.1754943508222875e-38, Math.fround(0.1)],
  FP64: [0, 0.1, -1e308, 5e-324, Math.PI, 1 / 3],
  BYTES: ['', 'hello', 'héllo wörld', '日本語テキスト', '🙂 emoji', 'quote " backslash \\ newline \n tab \t'],
};

/** Binary edge values, including those JSON cannot carry exactly. FP16 entries are bit patterns. */
const BINARY_VALUES: Record<DataType, Element[]> = {
  BOOL: [false, true, true, false, true, false],
  UINT8: [255, 0, 1, 128, 127, 200],
  UINT16: [65535, 0, 1, 32768, 4660, 43981],
  UINT32: [4294967295, 0, 1, 2147483648, 305419896, 2882400001],
  UINT64: [18446744073709551615n, 0n, 9007199254740993n, 9223372036854775808n, 1n, 12345678901234567890n],
  INT8: [-128, 127, -1, 0, 1, -77],
  INT16: [-32768, 32767, -1, 0, 1, -12345],
  INT32: [-2147483648, 2147483647, -1, 0, 1, -123456789],
  INT64: [-9223372036854775808n, 9223372036854775807n, 9007199254740993n, -9007199254740993n, -1n, 0n],
  // +0, -0, smallest subnormal, largest subnormal, largest normal, +Inf, -Inf, quiet NaN, NaN with payload, 1.0, -65504, 1/3
  FP16: [0x0000, 0x8000, 0x0001, 0x03ff, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0x3c00, 0xfbff, 0x3555],
  FP32: [0, -0, NaN, Infinity, -Infinity, 1.401298464324817e-45],
  FP64: [0, -0, NaN, Infinity, -Infinity, 5e-324],
  BYTES: ['', 'é', '日本語', '🙂', 'x'.repeat(1000), ''],
};

/** Datatypes of the batched identity model (dims [-1] after the batch dimension). */
const BATCHED: DataType[] = ['FP16', 'INT64', 'BYTES', 'BOOL'];

const shapeFor = (dt: DataType): number[] => [2, BINARY_VALUES[dt].length / 2];

function jsonInput(dt: DataType, values = JSON_VALUES[dt]): RequestInput {
  return { name: identityNames(dt).input, datatype: dt, shape: [2, values.length / 2], data: values.map((v) => (typeof v === 'bigint' ? Number(v) : v)) };
}

function binaryInput(dt: DataType, values = BINARY_VALUES[dt]): RequestInput {
  return { name: identityNames(dt).input, datatype: dt, shape: [2, values.length / 2], binary: encodeBinary(dt, values) };
}

/** JSON `data` as numbers: FP16 as values, BOOL as booleans, 64-bit as numbers, BYTES as strings. */
function expectedJson(dt: DataType, values: Element[]): unknown[] {
  return values.map((v) => (typeof v === 'bigint' ? Number(v) : v));
}

function decodeText(values: Element[]): string[] {
  return values.map((v) => Buffer.from(v as Uint8Array).toString('utf8'));
}

test('v2 datatypes', async (t) => {
  const repo = await tempRepo(t, {
    identity: { config: identityConfig('identity'), versions: { 1: buildIdentityModel() } },
    mlp: {
      config: {
        name: 'mlp', max_batch_size: 8,
        inputs: [{ name: 'input', datatype: 'FP32', dims: [8] }],
        outputs: [
          { name: 'logits', datatype: 'FP32', dims: [3] },
          { name: 'probabilities', datatype: 'FP32', dims: [3] },
          { name: 'label', datatype: 'INT64', dims: [] },
        ],
      },
      versions: { 1: buildMlpModel({ features: 8, hidden: [6], classes: 3, seed: 7 }) },
    },
    batched: {
      config: {
        name: 'batched', max_batch_size: 8,
        inputs: BATCHED.map((dt) => ({ name: identityNames(dt).input, datatype: dt, dims: [-1] })),
        outputs: BATCHED.map((dt) => ({ name: identityNames(dt).output, datatype: dt, dims: [-1] })),
        dynamic_batching: { max_queue_delay_us: 5000 },
      },
      versions: { 1: buildIdentityModel(BATCHED) },
    },
  });
  const { url } = await startServer(t, repo);

  await t.test('json: every datatype round-trips through the identity model as JSON', async () => {
    const res = await infer(url, 'identity', { inputs: DATATYPES.map((dt) => jsonInput(dt)) });
    assert.equal(res.status, 200, res.jsonText);
    assert.deepEqual(res.json.outputs.map((o) => o.name), DATATYPES.map((dt) => identityNames(dt).output), 'all outputs in model order');
    for (const dt of DATATYPES) {
      const out = res.outputs.get(identityNames(dt).output)!;
      assert.equal(out.datatype, dt);
      assert.deepEqual(out.shape, [2, 3], dt);
      assert.equal(out.binary, undefined, `${dt} comes back as JSON by default`);
      assert.deepEqual(outputValues(out), expectedJson(dt, JSON_VALUES[dt]), dt);
    }
  });

  await t.test('binary: every datatype round-trips byte for byte in both directions', async () => {
    const inputs = DATATYPES.map((dt) => binaryInput(dt));
    const res = await infer(url, 'identity', { inputs, parameters: { binary_data_output: true } });
    assert.equal(res.status, 200, res.jsonText);
    assert.match(res.headers.get('inference-header-content-length') ?? '', /^[0-9]+$/);
    for (const dt of DATATYPES) {
      const out = res.outputs.get(identityNames(dt).output)!;
      assert.equal(out.datatype, dt);
      assert.deepEqual(out.shape, shapeFor(dt), dt);
      assert.equal(out.data, undefined, `${dt} has no JSON data`);
      assert.equal(out.parameters?.binary_data_size, out.binary?.byteLength, dt);
      assert.ok(out.binary?.equals(encodeBinary(dt, BINARY_VALUES[dt])), `${dt}: the bytes come back unchanged`);
    }
  });

  await t.test('binary in, JSON out: 64-bit integers beyond 2^53 are written exactly', async () => {
    const res = await infer(url, 'identity', { inputs: DATATYPES.map((dt) => binaryInput(dt)) });
    assert.equal(res.status, 200, res.jsonText);
    assert.equal(res.headers.get('inference-header-content-length'), null, 'an all-JSON response has no binary part');
    assert.deepEqual(exactJsonValues(res, 'OUTPUT_INT64'), BINARY_VALUES.INT64);
    assert.deepEqual(exactJsonValues(res, 'OUTPUT_UINT64'), BINARY_VALUES.UINT64);
    for (const dt of ['UINT8', 'UINT16', 'UINT32', 'INT8', 'INT16', 'INT32', 'BOOL'] as const) {
      assert.deepEqual(outputValues(res.outputs.get(identityNames(dt).output)!), BINARY_VALUES[dt], dt);
    }
    const half = outputValues(res.outputs.get('OUTPUT_FP16')!);
    const bits = BINARY_VALUES.FP16 as number[];
    bits.forEach((b, i) => {
      const value = halfToNumber(b);
      if (Number.isFinite(value)) assert.ok(half[i] === value, `FP16 0x${b.toString(16)} -> ${value}, got ${String(half[i])}`);
    });
    assert.deepEqual(decodeText(outputValues(res.outputs.get('OUTPUT_BYTES')!).map((s) => Buffer.from(s as string))), BINARY_VALUES.BYTES);
  });

  await t.test('json in, binary out: values are encoded little-endian with the right element sizes', async () => {
    const res = await infer(url, 'identity', { inputs: DATATYPES.map((dt) => jsonInput(dt)), parameters: { binary_data_output: true } });
    assert.equal(res.status, 200, res.jsonText);
    for (const dt of DATATYPES) {
      const out = res.outputs.get(identityNames(dt).output)!;
      const values = dt === 'FP16' ? (JSON_VALUES.FP16 as number[]).map((v) => halfBitsOf(v)) : JSON_VALUES[dt];
      assert.ok(out.binary?.equals(encodeBinary(dt, values)), `${dt}: got ${out.binary?.toString('hex')}`);
    }
  });

  await t.test('mixed: JSON and binary inputs in one request, binary_data chosen per output', async () => {
    const inputs = DATATYPES.map((dt, i) => (i % 2 === 0 ? binaryInput(dt) : jsonInput(dt)));
    const outputs: RequestOutput[] = DATATYPES.map((dt, i) => ({ name: identityNames(dt).output, parameters: { binary_data: i % 3 === 0 } }));
    const res = await infer(url, 'identity', { inputs, outputs });
    assert.equal(res.status, 200, res.jsonText);
    DATATYPES.forEach((dt, i) => {
      const out = res.outputs.get(identityNames(dt).output)!;
      const sent = i % 2 === 0 ? BINARY_VALUES[dt] : JSON_VALUES[dt];
      if (i % 3 === 0) {
        const expected = i % 2 === 0 || dt !== 'FP16' ? sent : (sent as number[]).map(halfBitsOf);
        assert.ok(out.binary?.equals(encodeBinary(dt, expected)), `${dt} as binary`);
        assert.equal(out.data, undefined);
      } else {
        assert.equal(out.binary, undefined, `${dt} as JSON`);
        assert.ok(Array.isArray(out.data), `${dt} has data`);
      }
    });
  });

  await t.test('mixed: binary_data_output true with an output that opts out', async () => {
    const res = await infer(url, 'identity', {
      inputs: DATATYPES.map((dt) => jsonInput(dt)),
      parameters: { binary_data_output: true },
      outputs: [{ name: 'OUTPUT_INT32', parameters: { binary_data: false } }, { name: 'OUTPUT_BYTES' }],
    });
    assert.equal(res.status, 200, res.jsonText);
    assert.deepEqual(res.json.outputs.map((o) => o.name), ['OUTPUT_INT32', 'OUTPUT_BYTES']);
    assert.deepEqual(res.outputs.get('OUTPUT_INT32')!.data, JSON_VALUES.INT32);
    assert.ok(res.outputs.get('OUTPUT_BYTES')!.binary?.equals(encodeBinary('BYTES', JSON_VALUES.BYTES)));
  });

  await t.test('json: nested data and flat data give the same tensor', async () => {
    const nested = (values: Element[]) => [values.slice(0, 3), values.slice(3)];
    const flatRes = await infer(url, 'identity', { inputs: DATATYPES.map((dt) => jsonInput(dt)) });
    const nestedRes = await infer(url, 'identity', { inputs: DATATYPES.map((dt) => ({ ...jsonInput(dt), data: nested(JSON_VALUES[dt]) })) });
    assert.equal(nestedRes.status, 200, nestedRes.jsonText);
    for (const dt of DATATYPES) {
      const name = identityNames(dt).output;
      assert.deepEqual(outputValues(nestedRes.outputs.get(name)!), outputValues(flatRes.outputs.get(name)!), dt);
      assert.deepEqual(nestedRes.outputs.get(name)!.shape, [2, 3]);
    }
  });

  await t.test('outputs: only the requested outputs come back, in the requested order', async () => {
    const res = await infer(url, 'identity', {
      inputs: DATATYPES.map((dt) => jsonInput(dt)),
      outputs: [{ name: 'OUTPUT_BYTES' }, { name: 'OUTPUT_FP32' }],
    });
    assert.equal(res.status, 200, res.jsonText);
    assert.deepEqual(res.json.outputs.map((o) => o.name), ['OUTPUT_BYTES', 'OUTPUT_FP32']);
    assert.deepEqual(res.outputs.get('OUTPUT_FP32')!.data, JSON_VALUES.FP32);
  });

  await t.test('outputs: an empty outputs list is answered like an absent one (all outputs), not with a 5xx', async () => {
    const res = await infer(url, 'identity', { inputs: DATATYPES.map((dt) => jsonInput(dt)), outputs: [] });
    assert.equal(res.status, 200, res.jsonText);
    assert.deepEqual(res.json.outputs.map((o) => o.name), DATATYPES.map((dt) => identityNames(dt).output));
  });

  await t.test('id: echoed when given (any string), absent when not', async () => {
    const request = (id?: string): InferRequest => ({ ...(id === undefined ? {} : { id }), inputs: DATATYPES.map((dt) => jsonInput(dt)) });
    for (const id of ['req-42', 'ünïcødé ✓ "quoted"', '']) {
      const res = await infer(url, 'identity', request(id));
      assert.equal(res.status, 200, res.jsonText);
      assert.equal(res.json.id, id);
    }
    const none = await infer(url, 'identity', request());
    assert.equal(none.status, 200);
    assert.ok(!('id' in none.json), 'no id without one in the request');
  });

  await t.test('classification: top-k of each batch row as BYTES "value:index", highest first', async () => {
    const input = Array.from({ length: 16 }, (_, i) => Math.sin(i + 1) * 3);
    const inputs: RequestInput[] = [{ name: 'input', datatype: 'FP32', shape: [2, 8], data: input }];
    const plain = await infer(url, 'mlp', { inputs, outputs: [{ name: 'probabilities' }] });
    assert.equal(plain.status, 200, plain.jsonText);
    const probs = outputValues(plain.outputs.get('probabilities')!) as number[];
    for (const binary of [false, true]) {
      const res = await infer(url, 'mlp', { inputs, outputs: [{ name: 'probabilities', parameters: { classification: 2, binary_data: binary } }, { name: 'label' }] });
      assert.equal(res.status, 200, res.jsonText);
      const out = res.outputs.get('probabilities')!;
      assert.equal(out.datatype, 'BYTES');
      assert.deepEqual(out.shape, [2, 2]);
      const entries = outputValues(out).map((e) => (typeof e === 'string' ? e : Buffer.from(e as Uint8Array).toString('utf8')));
      const labels = outputValues(res.outputs.get('label')!);
      for (let row = 0; row < 2; row++) {
        const rowProbs = probs.slice(row * 3, row * 3 + 3);
        const order = [0, 1, 2].sort((a, b) => rowProbs[b]! - rowProbs[a]!);
        for (let k = 0; k < 2; k++) {
          const [value, index] = entries[row * 2 + k]!.split(':');
          assert.equal(Number(index), order[k], `row ${row} rank ${k}: ${entries[row * 2 + k]}`);
          assert.ok(Math.abs(Number(value) - rowProbs[order[k]!]!) < 1e-6, `row ${row} rank ${k}: value ${value}`);
        }
        assert.equal(BigInt(labels[row] as number | bigint), BigInt(order[0]!), 'argmax label agrees with the top class');
      }
    }
  });

  await t.test('classification: integer and FP16 outputs of a model without batching', async () => {
    const res = await infer(url, 'identity', {
      inputs: DATATYPES.map((dt) => jsonInput(dt)),
      outputs: [
        { name: 'OUTPUT_INT32', parameters: { classification: 3 } },
        { name: 'OUTPUT_FP16', parameters: { classification: 1 } },
      ],
    });
    assert.equal(res.status, 200, res.jsonText);
    const ints = res.outputs.get('OUTPUT_INT32')!;
    assert.equal(ints.datatype, 'BYTES');
    assert.deepEqual(ints.shape, [3]);
    assert.deepEqual((ints.data as string[]).map((e) => e.split(':').map(Number)), [[2 ** 31 - 1, 5], [2 ** 31 - 2, 4], [1, 3]]);
    assert.deepEqual((res.outputs.get('OUTPUT_FP16')!.data as string[]).map((e) => e.split(':').map(Number)), [[65504, 3]]);
  });

  await t.test('batching: concurrent requests of different batch sizes and lengths each get exactly their own data', async () => {
    const requests = Array.from({ length: 30 }, (_, r) => {
      const batch = 1 + (r % 3);
      const length = 1 + ((r * 7) % 3);
      const n = batch * length;
      const values: Record<string, Element[]> = {
        FP16: Array.from({ length: n }, (_, i) => (r * 13 + i) & 0x7bff),
        INT64: Array.from({ length: n }, (_, i) => BigInt(r) * 1_000_000_000_000n + BigInt(i) - 5n),
        BYTES: Array.from({ length: n }, (_, i) => `r${r}-${i}-${'é'.repeat(i)}`),
        BOOL: Array.from({ length: n }, (_, i) => (r + i) % 2 === 0),
      };
      return { shape: [batch, length], values, binary: r % 2 === 0 };
    });
    const results = await Promise.all(requests.map((q) => infer(url, 'batched', {
      inputs: BATCHED.map((dt) => ({ name: identityNames(dt).input, datatype: dt, shape: q.shape, binary: encodeBinary(dt, q.values[dt]!) })),
      parameters: { binary_data_output: q.binary },
    })));
    results.forEach((res, r) => {
      const q = requests[r]!;
      assert.equal(res.status, 200, res.jsonText);
      for (const dt of BATCHED) {
        const out = res.outputs.get(identityNames(dt).output)!;
        assert.deepEqual(out.shape, q.shape, `request ${r} ${dt} shape`);
        if (q.binary) assert.ok(out.binary?.equals(encodeBinary(dt, q.values[dt]!)), `request ${r} ${dt} bytes`);
        else if (dt === 'INT64') assert.deepEqual(exactJsonValues(res, out.name), q.values[dt], `request ${r} INT64`);
        else if (dt === 'FP16') assert.deepEqual(outputValues(out), (q.values[dt] as number[]).map(halfToNumber), `request ${r} FP16`);
        else assert.deepEqual(outputValues(out), q.values[dt], `request ${r} ${dt}`);
      }
    });
  });

  await t.test('BYTES: elements with NUL bytes and non-UTF-8 bytes are echoed exactly or refused, never altered', async () => {
    const cases: Array<[string, Element[]]> = [
      ['NUL inside text', ['a\u0000b', '\u0000']],
      ['non-UTF-8 bytes', [new Uint8Array([0xff, 0xfe, 0x80]), new Uint8Array([0xc3])]],
    ];
    const altered: string[] = [];
    for (const [what, values] of cases) {
      const inputs = DATATYPES.map((dt) => (dt === 'BYTES' ? { ...binaryInput(dt, values), shape: [1, 2] } : jsonInput(dt)));
      const res = await infer(url, 'identity', { inputs, outputs: [{ name: 'OUTPUT_BYTES', parameters: { binary_data: true } }] });
      if (res.status === 400) continue;
      assert.equal(res.status, 200, res.jsonText);
      const got = res.outputs.get('OUTPUT_BYTES')!.binary!.toString('hex');
      const sent = encodeBinary('BYTES', values).toString('hex');
      if (got !== sent) altered.push(`${what}: sent ${sent}, got ${got}`);
    }
    assert.deepEqual(altered, []);
  });

  await t.test('json: 64-bit integers beyond 2^53 are echoed exactly or refused, never silently changed', async () => {
    const cases: Array<[DataType, string, bigint]> = [
      ['INT64', '9007199254740993', 9007199254740993n],
      ['INT64', '9223372036854775807', 9223372036854775807n],
      ['UINT64', '18446744073709551615', 18446744073709551615n],
    ];
    const wrong: string[] = [];
    for (const [dt, literal, expected] of cases) {
      const others = DATATYPES.filter((d) => d !== dt).map((d) => JSON.stringify(jsonInput(d)));
      const own = `{"name":"${identityNames(dt).input}","datatype":"${dt}","shape":[1,1],"data":[${literal}]}`;
      const body = `{"inputs":[${[...others, own].join(',')}],"outputs":[{"name":"${identityNames(dt).output}"}]}`;
      const res = await fetch(`${url}/v2/models/identity/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const text = await res.text();
      if (res.status === 400) continue;
      assert.equal(res.status, 200, text);
      const got = exactJsonValues({ jsonText: text } as Parameters<typeof exactJsonValues>[0], identityNames(dt).output);
      if (got[0] !== expected) wrong.push(`${dt} ${literal} came back as ${String(got[0])}`);
    }
    assert.deepEqual(wrong, []);
  });

  await t.test('json: the most negative INT64 is a valid value', async () => {
    const others = DATATYPES.filter((d) => d !== 'INT64').map((d) => JSON.stringify(jsonInput(d)));
    const body = `{"inputs":[${others.join(',')},{"name":"INPUT_INT64","datatype":"INT64","shape":[1,2],"data":[-9223372036854775808,-9007199254740992]}],"outputs":[{"name":"OUTPUT_INT64"}]}`;
    const res = await fetch(`${url}/v2/models/identity/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const got = exactJsonValues({ jsonText: text } as Parameters<typeof exactJsonValues>[0], 'OUTPUT_INT64');
    assert.deepEqual(got, [-9223372036854775808n, -9007199254740992n]);
  });
});

/** Half-precision bits of a number that is exactly representable in half precision. */
function halfBitsOf(value: number): number {
  for (let bits = 0; bits < 0x10000; bits++) if (Object.is(halfToNumber(bits), value)) return bits;
  throw new Error(`${value} is not a half-precision value`);
}
