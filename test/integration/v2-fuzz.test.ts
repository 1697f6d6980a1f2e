/**
 * Fuzzes POST /infer with random, mutated and randomly shaped bodies. Every answer must be a 4xx with
 * a v2 error body, or a 200 whose outputs are well formed (and, for the generated identity requests
 * that are valid, equal to the inputs). Never a 5xx, never a dropped connection. Seeded: a failure
 * names its case number, and FUZZ_SEED reproduces a whole run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';
import { DATATYPES, buildIdentityModel, identityConfig, identityNames, type DataType } from '../../scripts/lib/test-models.js';
import { Prng } from '../helpers/prng.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import {
  buildInferRequest, byteSize, decodeBinary, encodeBinary, httpRequest, infer, inferPath, outputValues, parseInferResponse,
  type Element, type HttpResult, type InferRequest, type RequestInput, type V2DataType,
} from '../helpers/v2-client.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const CASES_PER_MODEL = 700;
const CONCURRENCY = 8;
const FEATURES = 32;

interface Case {
  model: 'mlp' | 'identity';
  kind: string;
  body: Buffer;
  headers: Record<string, string>;
  /** For generated valid identity requests: what each output must contain. */
  expect?: Map<string, { datatype: DataType; shape: number[]; values: Element[] }>;
}

const EXTREMES: Record<DataType, Element[]> = {
  BOOL: [true, false],
  UINT8: [0, 255, 7],
  UINT16: [0, 65535, 300],
  UINT32: [0, 4294967295, 70000],
  UINT64: [0n, 18446744073709551615n, 9007199254740993n],
  INT8: [-128, 127, 0, -1],
  INT16: [-32768, 32767, -1],
  INT32: [-2147483648, 2147483647, -1],
  INT64: [-9223372036854775808n, 9223372036854775807n, -1n, 9007199254740993n],
  FP16: [0x0000, 0x8000, 0x0001, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3c00],
  FP32: [0, -0, 1.5, 3.4028234663852886e38, -1e-45, NaN, Infinity],
  FP64: [0, 5e-324, -1.7976931348623157e308, Math.PI, NaN, -Infinity],
  BYTES: ['', 'a', 'héllo', '日本', '🙂', 'x'.repeat(50)],
};

/** Values JSON can carry exactly (and the server must accept) for each datatype. */
const JSON_SAFE: Record<DataType, Element[]> = {
  BOOL: [true, false],
  UINT8: [0, 255, 7],
  UINT16: [0, 65535, 300],
  UINT32: [0, 4294967295, 70000],
  UINT64: [0, 2 ** 53 - 1, 12345],
  INT8: [-128, 127, 0, -1],
  INT16: [-32768, 32767, -1],
  INT32: [-2147483648, 2147483647, -1],
  INT64: [-(2 ** 53 - 1), 2 ** 53 - 1, -1],
  FP16: [0, 1.5, -2, 65504, 2 ** -24],
  FP32: [0, 1.5, -3.25, 3.4028234663852886e38],
  FP64: [0, 5e-324, -1.7976931348623157e308, Math.PI],
  BYTES: ['', 'a', 'héllo', '日本', '🙂 "q" \\'],
};

function halfBits(value: number): number {
  const f = new Float32Array([value]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  if (value === 0) return sign;
  if (exp <= 0) return sign | Math.round(Math.abs(value) / 2 ** -24); // the values used are exact subnormals
  return sign | (exp << 10) | ((u & 0x7fffff) >>> 13);
}

/** A valid identity request with random shapes, values, JSON/binary choices and output options. */
function validIdentityCase(rng: Prng): Case {
  const inputs: RequestInput[] = [];
  const expect: NonNullable<Case['expect']> = new Map();
  for (const dt of DATATYPES) {
    const shape = [rng.int(4), rng.int(4)];
    const n = shape[0]! * shape[1]!;
    const binary = rng.chance(0.5);
    const pool = binary ? EXTREMES[dt] : JSON_SAFE[dt];
    const values = Array.from({ length: n }, () => rng.pick(pool));
    const { input, output } = identityNames(dt);
    if (binary) {
      inputs.push({ name: input, datatype: dt, shape, binary: encodeBinary(dt, values) });
      expect.set(output, { datatype: dt, shape, values });
    } else {
      const data = rng.chance(0.5) ? values : Array.from({ length: shape[0]! }, (_, r) => values.slice(r * shape[1]!, (r + 1) * shape[1]!));
      inputs.push({ name: input, datatype: dt, shape, data });
      expect.set(output, { datatype: dt, shape, values: dt === 'FP16' ? (values as number[]).map(halfBits) : values });
    }
  }
  const request: InferRequest = { inputs };
  if (rng.chance(0.5)) request.parameters = { binary_data_output: rng.chance(0.5) };
  if (rng.chance(0.3)) request.id = `fuzz-${rng.int(1e6)}`;
  if (rng.chance(0.5)) {
    const chosen = DATATYPES.filter(() => rng.chance(0.4));
    request.outputs = chosen.map((dt) => ({ name: identityNames(dt).output, parameters: rng.chance(0.5) ? { binary_data: rng.chance(0.5) } : {} }));
    for (const dt of DATATYPES) if (!chosen.includes(dt)) expect.delete(identityNames(dt).output);
  }
  const wire = buildInferRequest(request);
  return { model: 'identity', kind: 'valid-identity', body: wire.body, headers: wire.headers, expect };
}

function validMlpRequest(rng: Prng): InferRequest {
  const batch = rng.range(1, 4);
  const values = Array.from({ length: batch * FEATURES }, () => (rng.next() - 0.5) * 10);
  const binary = rng.chance(0.5);
  const input: RequestInput = binary
    ? { name: 'input', datatype: 'FP32', shape: [batch, FEATURES], binary: encodeBinary('FP32', values) }
    : { name: 'input', datatype: 'FP32', shape: [batch, FEATURES], data: values };
  const request: InferRequest = { inputs: [input] };
  if (rng.chance(0.5)) request.outputs = [{ name: 'probabilities', parameters: { classification: rng.int(6), binary_data: rng.chance(0.5) } }, { name: 'label' }];
  if (rng.chance(0.3)) request.parameters = { binary_data_output: true };
  return request;
}

function randomJsonValue(rng: Prng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 6 : 9)) {
    case 0: return rng.pick([0, -1, 1, 1.5, -0, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, 2147483647, 4294967296, 16, 32]);
    case 1: return rng.pick(['', 'FP32', 'BYTES', 'INT64', 'input', 'INPUT_FP32', 'x'.repeat(300), '\u0000', '🙂']);
    case 2: return null;
    case 3: return rng.chance(0.5);
    case 4: return [];
    case 5: return {};
    case 6: return Array.from({ length: rng.int(5) }, () => randomJsonValue(rng, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: rng.int(4) }, () => [rng.pick(['name', 'shape', 'datatype', 'data', 'parameters', 'binary_data_size', 'classification', 'binary_data']), randomJsonValue(rng, depth + 1)]));
    default: return Array.from({ length: rng.int(4) }, () => rng.int(40) - 3);
  }
}

/** Replaces, deletes or adds one value somewhere inside a JSON document. */
function mutateJson(rng: Prng, doc: unknown): unknown {
  if (doc === null || typeof doc !== 'object') return randomJsonValue(rng);
  const copy: unknown = Array.isArray(doc) ? [...doc] : { ...(doc as object) };
  const container = copy as Record<string, unknown>;
  const keys = Object.keys(container);
  if (keys.length === 0 || rng.chance(0.15)) {
    container[Array.isArray(copy) ? String(keys.length) : rng.pick(['inputs', 'outputs', 'parameters', 'id', 'extra'])] = randomJsonValue(rng);
    return copy;
  }
  const key = rng.pick(keys);
  const r = rng.next();
  if (r < 0.45) container[key] = mutateJson(rng, container[key]);
  else if (r < 0.8) container[key] = randomJsonValue(rng);
  else if (Array.isArray(copy)) copy.splice(Number(key), 1);
  else delete container[key];
  return copy;
}

function mutateBytes(rng: Prng, body: Buffer): Buffer {
  let out = Buffer.from(body);
  const edits = rng.range(1, 4);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(out.byteLength + 1);
    switch (rng.int(5)) {
      case 0: if (out.byteLength > 0) out[Math.min(at, out.byteLength - 1)] = rng.int(256); break;
      case 1: out = Buffer.concat([out.subarray(0, at), rng.bytes(rng.range(1, 8)), out.subarray(at)]); break;
      case 2: out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.byteLength, at + rng.range(1, 16)))]); break;
      case 3: out = out.subarray(0, at); break;
      default: out = Buffer.concat([out.subarray(0, at), out.subarray(rng.int(out.byteLength + 1), at), out.subarray(at)]);
    }
  }
  return out;
}

function mutatedCase(rng: Prng, model: 'mlp' | 'identity', base: InferRequest): Case {
  const wire = buildInferRequest(base);
  const headers = { ...wire.headers };
  const headerLength = headers['inference-header-content-length'];
  const jsonPart = headerLength ? wire.body.subarray(0, Number(headerLength)) : wire.body;
  const binaryPart = headerLength ? wire.body.subarray(Number(headerLength)) : Buffer.alloc(0);
  const r = rng.next();
  if (r < 0.35) {
    let doc = JSON.parse(jsonPart.toString()) as unknown;
    for (let i = rng.range(1, 3); i > 0; i--) doc = mutateJson(rng, doc);
    const json = Buffer.from(JSON.stringify(doc) ?? 'null');
    if (binaryPart.byteLength > 0) headers['inference-header-content-length'] = String(json.byteLength);
    return { model, kind: 'json-mutation', body: Buffer.concat([json, binaryPart]), headers };
  }
  if (r < 0.6) return { model, kind: 'byte-mutation', body: mutateBytes(rng, wire.body), headers };
  if (r < 0.7) {
    headers['inference-header-content-length'] = rng.pick([String(rng.int(wire.body.byteLength + 10)), '-1', '1e3', ' 12', '0x10', '', String(2 ** 60)]);
    return { model, kind: 'header-length', body: wire.body, headers };
  }
  if (r < 0.8) {
    const encoding = rng.pick(['gzip', 'deflate', 'br', 'identity', 'gzip, gzip']);
    const body = encoding === 'gzip' && rng.chance(0.5) ? gzipSync(mutateBytes(rng, wire.body)) : mutateBytes(rng, wire.body);
    return { model, kind: `content-encoding ${encoding}`, body, headers: { ...headers, 'content-encoding': encoding } };
  }
  if (r < 0.9) {
    // Shape and datatype lies on an otherwise well-formed request.
    const doc = JSON.parse(jsonPart.toString()) as { inputs: Array<{ shape: unknown; datatype: unknown }> };
    const input = rng.pick(doc.inputs);
    if (rng.chance(0.6)) input.shape = Array.from({ length: rng.int(5) }, () => rng.pick([0, 1, 2, 3, 32, -1, 2147483647, 65536, 1.5]));
    else input.datatype = rng.pick([...DATATYPES, 'FP8', 'STRING', '', 'fp32']);
    const json = Buffer.from(JSON.stringify(doc));
    if (binaryPart.byteLength > 0) headers['inference-header-content-length'] = String(json.byteLength);
    return { model, kind: 'shape-or-datatype', body: Buffer.concat([json, binaryPart]), headers };
  }
  if (r < 0.95) return { model, kind: 'random-json', body: Buffer.from(JSON.stringify(randomJsonValue(rng)) ?? ''), headers: { 'content-type': 'application/json' } };
  return { model, kind: 'random-bytes', body: rng.bytes(rng.int(300)), headers: { 'content-type': rng.pick(['application/octet-stream', 'application/json', 'text/plain']) } };
}

function identityBase(rng: Prng): InferRequest {
  const inputs: RequestInput[] = DATATYPES.map((dt) => {
    const values = [rng.pick(EXTREMES[dt]), rng.pick(EXTREMES[dt])];
    return rng.chance(0.5)
      ? { name: identityNames(dt).input, datatype: dt, shape: [1, 2], binary: encodeBinary(dt, values) }
      : { name: identityNames(dt).input, datatype: dt, shape: [1, 2], data: [rng.pick(JSON_SAFE[dt]), rng.pick(JSON_SAFE[dt])] };
  });
  return { inputs, outputs: rng.chance(0.5) ? [{ name: 'OUTPUT_FP32', parameters: { classification: 2 } }, { name: 'OUTPUT_BYTES', parameters: { binary_data: true } }] : undefined };
}

function makeCases(rng: Prng): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < CASES_PER_MODEL; i++) {
    if (rng.chance(0.25)) {
      const wire = buildInferRequest(validMlpRequest(rng));
      cases.push({ model: 'mlp', kind: 'valid-mlp', body: wire.body, headers: wire.headers });
    } else {
      cases.push(mutatedCase(rng, 'mlp', validMlpRequest(rng)));
    }
    cases.push(rng.chance(0.3) ? validIdentityCase(rng) : mutatedCase(rng, 'identity', identityBase(rng)));
  }
  return cases;
}

/** Checks that a 200 response is a well-formed v2 response; returns a problem description or undefined. */
function checkOk(c: Case, res: HttpResult): string | undefined {
  let parsed;
  try {
    parsed = parseInferResponse(res);
  } catch (err) {
    return `unparseable 200: ${(err as Error).message}`;
  }
  const { json } = parsed;
  if (json.model_name !== c.model) return `model_name ${json.model_name}`;
  if (!Array.isArray(json.outputs) || json.outputs.length === 0) return 'no outputs';
  for (const out of parsed.outputs.values()) {
    if (!(DATATYPES as readonly string[]).includes(out.datatype)) return `output ${out.name}: datatype ${out.datatype}`;
    if (!Array.isArray(out.shape) || !out.shape.every((d) => Number.isInteger(d) && d >= 0)) return `output ${out.name}: shape ${JSON.stringify(out.shape)}`;
    const count = out.shape.reduce((a, b) => a * b, 1);
    let values: Element[];
    try {
      values = outputValues(out);
    } catch (err) {
      return `output ${out.name}: ${(err as Error).message}`;
    }
    if (values.length !== count) return `output ${out.name}: ${values.length} elements for shape [${out.shape}]`;
    if (out.binary && out.datatype !== 'BYTES' && out.binary.byteLength !== count * byteSize(out.datatype as Exclude<V2DataType, 'BYTES'>)) return `output ${out.name}: binary size`;
  }
  if (c.expect) {
    const names = [...parsed.outputs.keys()].sort();
    if (names.join() !== [...c.expect.keys()].sort().join()) return `outputs ${names.join()} != ${[...c.expect.keys()].join()}`;
    for (const [name, want] of c.expect) {
      const out = parsed.outputs.get(name)!;
      if (out.datatype !== want.datatype || out.shape.join() !== want.shape.join()) return `output ${name}: ${out.datatype} [${out.shape}]`;
      const got = out.binary ? decodeBinary(want.datatype, out.binary) : null;
      if (got) {
        const expected = decodeBinary(want.datatype, encodeBinary(want.datatype, want.values));
        if (!sameElements(got, expected)) return `output ${name}: binary values differ`;
      }
    }
  }
  return undefined;
}

function sameElements(a: Element[], b: Element[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((v, i) => {
    const w = b[i]!;
    if (v instanceof Uint8Array && w instanceof Uint8Array) return Buffer.from(v).equals(Buffer.from(w));
    return Object.is(v, w);
  });
}

test('fuzz: random and mutated infer bodies get a 4xx or a valid 200, never a 5xx or a dropped connection', async (t) => {
  const repo = await tempRepo(t, {
    identity: { config: identityConfig('identity'), versions: { 1: buildIdentityModel() } },
    mlp: {
      config: {
        name: 'mlp', max_batch_size: 8,
        inputs: [{ name: 'input', datatype: 'FP32', dims: [FEATURES] }],
        outputs: [
          { name: 'logits', datatype: 'FP32', dims: [4] },
          { name: 'probabilities', datatype: 'FP32', dims: [4] },
          { name: 'label', datatype: 'INT64', dims: [] },
        ],
        dynamic_batching: { max_queue_delay_us: 100 },
      },
      versions: { 1: buildMlpModel({ features: FEATURES, hidden: [16], classes: 4, seed: 3 }) },
    },
  });
  const { url } = await startServer(t, repo);
  const cases = makeCases(new Prng(SEED));
  assert.ok(cases.length >= 1000);

  const problems: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const index = next++;
      const c = cases[index]!;
      const where = `case ${index} (seed ${SEED}, ${c.model}, ${c.kind}, body ${JSON.stringify(c.body.toString('latin1').slice(0, 160))})`;
      let res: HttpResult;
      try {
        res = await httpRequest(`${url}${inferPath(c.model)}`, 'POST', c.body, c.headers);
      } catch (err) {
        problems.push(`${where}: request failed: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`);
        continue;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 200) {
        const problem = checkOk(c, res);
        if (problem) problems.push(`${where}: ${problem}`);
      } else if (res.status >= 400 && res.status < 500) {
        let ok: boolean;
        try {
          ok = typeof (JSON.parse(res.body.toString()) as { error?: unknown }).error === 'string';
        } catch {
          ok = false;
        }
        if (!ok) problems.push(`${where}: ${res.status} without a v2 error body: ${res.body.toString().slice(0, 200)}`);
        if (c.kind === 'valid-identity' || c.kind === 'valid-mlp') problems.push(`${where}: a valid request got ${res.status}: ${res.body.toString().slice(0, 300)}`);
      } else {
        problems.push(`${where}: status ${res.status}: ${res.body.toString().slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.ok((statuses.get(200) ?? 0) > 100, 'the fuzz mix includes plenty of valid requests');
  assert.ok([...statuses.keys()].some((s) => s >= 400 && s < 500), 'and plenty of refusals');
  assert.deepEqual(problems.slice(0, 15), [], `${problems.length} problems`);

  // The server is still healthy and still computes correctly.
  assert.equal((await httpRequest(`${url}/v2/health/live`, 'GET')).status, 200);
  assert.equal((await httpRequest(`${url}/v2/health/ready`, 'GET')).status, 200);
  const values = Array.from({ length: 6 }, (_, i) => i * 1.25 - 3);
  const res = await infer(url, 'identity', {
    inputs: DATATYPES.map((dt) => ({ name: identityNames(dt).input, datatype: dt, shape: [1, 1], data: [dt === 'BYTES' ? 'ok' : dt === 'BOOL' ? true : 1] })),
    outputs: [{ name: 'OUTPUT_FP64' }],
  });
  assert.equal(res.status, 200, res.jsonText);
  assert.deepEqual(res.outputs.get('OUTPUT_FP64')!.data, [1]);
  const mlp = await infer(url, 'mlp', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, FEATURES], data: Array.from({ length: FEATURES }, (_, i) => values[i % 6]!) }] });
  assert.equal(mlp.status, 200, mlp.jsonText);
  const probs = outputValues(mlp.outputs.get('probabilities')!) as number[];
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'probabilities still sum to 1');
});
