import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import { addSubConfig, buildAddSubModel, buildIdentityModel, buildSlowIdentityModel, identityConfig } from '../../scripts/lib/test-models.js';
import { startCli, startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import {
  buildInferRequest, encodeBinary, errorMessage, httpRequest, infer, postInfer,
  type HttpResult, type InferRequest, type RequestInput,
} from '../helpers/v2-client.js';

const SIXTEEN = Array.from({ length: 16 }, (_, i) => i);
const in0 = (over: Partial<RequestInput> = {}): RequestInput => ({ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: SIXTEEN, ...over }) as RequestInput;
const in1 = (over: Partial<RequestInput> = {}): RequestInput => ({ name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: SIXTEEN, ...over }) as RequestInput;

/** Asserts a v2 error: the status, a JSON `{"error": string}` body, and (optionally) what the message names. */
function assertError(res: HttpResult, status: number, names?: RegExp): string {
  assert.equal(res.status, status, res.body.toString('utf8').slice(0, 300));
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const message = errorMessage(res);
  assert.ok(message.length > 0, 'the message is not empty');
  if (names) assert.match(message, names);
  return message;
}

async function send(url: string, model: string, request: InferRequest): Promise<HttpResult> {
  const wire = buildInferRequest(request);
  return postInfer(url, model, wire.body, wire.headers);
}

/** A binary request whose JSON header and bytes the test controls completely. */
function rawBinary(header: object, binary: Buffer, headerLengthDelta = 0): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, binary]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.byteLength + headerLengthDelta) },
  };
}

test('v2 errors', async (t) => {
  const repo = await tempRepo(t, {
    simple: { config: addSubConfig('simple'), versions: { 1: buildAddSubModel() } },
    identity: { config: identityConfig('identity', ['FP32', 'BYTES']), versions: { 1: buildIdentityModel(['FP32', 'BYTES']) } },
    broken: { config: { name: 'broken' }, versions: { 1: randomBytes(256) } },
    queued: {
      config: {
        name: 'queued', max_batch_size: 1, onnx: { intra_op_threads: 1 },
        inputs: [{ name: 'x', datatype: 'FP32', dims: [4] }], outputs: [{ name: 'y', datatype: 'FP32', dims: [4] }],
        dynamic_batching: { default_queue_policy: { max_queue_size: 1 } },
      },
      versions: { 1: buildSlowBatchedModel() },
    },
  });
  const { url } = await startServer(t, repo);

  await t.test('errors: a valid request succeeds (baseline for the cases below)', async () => {
    const res = await infer(url, 'simple', { inputs: [in0(), in1()] });
    assert.equal(res.status, 200, res.jsonText);
  });

  await t.test('errors: malformed JSON bodies are 400', async () => {
    for (const body of ['{"inputs": [', 'not json', '', '[]', 'null', '42', '"x"', '{"inputs": "x"}', '{"inputs": []}', '{}', '{"inputs":[{"name":"INPUT0"}]}', '\u00ff\u00fe']) {
      assertError(await postInfer(url, 'simple', body), 400);
    }
  });

  await t.test('errors: wrong or unknown datatype names the input', async () => {
    assertError(await send(url, 'simple', { inputs: [in0({ datatype: 'FP32' }), in1()] }), 400, /INPUT0/);
    assertError(await send(url, 'simple', { inputs: [in0(), in1({ datatype: 'FLOAT32' })] }), 400, /INPUT1/);
    assertError(await send(url, 'simple', { inputs: [in0(), in1({ datatype: 'int32' })] }), 400, /INPUT1/);
  });

  await t.test('errors: element values of the wrong type or out of range name the input', async () => {
    const cases: Array<[unknown[], string]> = [
      [['a', ...SIXTEEN.slice(1)], 'string'],
      [[1.5, ...SIXTEEN.slice(1)], 'fraction'],
      [[null, ...SIXTEEN.slice(1)], 'null'],
      [[true, ...SIXTEEN.slice(1)], 'boolean'],
      [[{}, ...SIXTEEN.slice(1)], 'object'],
      [[2 ** 31, ...SIXTEEN.slice(1)], 'above INT32'],
      [[-(2 ** 31) - 1, ...SIXTEEN.slice(1)], 'below INT32'],
    ];
    for (const [data, what] of cases) {
      const res = await send(url, 'simple', { inputs: [in0({ data } as Partial<RequestInput>), in1()] });
      assertError(res, 400, /INPUT0/);
      assert.ok(res.status === 400, what);
    }
    const bytes = await send(url, 'identity', {
      inputs: [{ name: 'INPUT_FP32', datatype: 'FP32', shape: [1, 1], data: [1] }, { name: 'INPUT_BYTES', datatype: 'BYTES', shape: [1, 1], data: [7] }],
    });
    assertError(bytes, 400, /INPUT_BYTES/);
    const floats = await send(url, 'identity', {
      inputs: [{ name: 'INPUT_FP32', datatype: 'FP32', shape: [1, 1], data: ['1.0'] }, { name: 'INPUT_BYTES', datatype: 'BYTES', shape: [1, 1], data: ['x'] }],
    });
    assertError(floats, 400, /INPUT_FP32/);
  });

  await t.test('errors: shape and element count mismatches name the input', async () => {
    assertError(await send(url, 'simple', { inputs: [in0({ data: SIXTEEN.slice(1) } as Partial<RequestInput>), in1()] }), 400, /INPUT0/);
    assertError(await send(url, 'simple', { inputs: [in0({ data: [...SIXTEEN, 16] } as Partial<RequestInput>), in1()] }), 400, /INPUT0/);
    assertError(await send(url, 'simple', { inputs: [in0({ shape: [1, 15], data: SIXTEEN.slice(1) } as Partial<RequestInput>), in1()] }), 400, /INPUT0/);
    assertError(await send(url, 'simple', { inputs: [in0(), in1({ shape: [16] })] }), 400, /INPUT1/);
    assertError(await send(url, 'simple', { inputs: [in0(), in1({ shape: [1, 1, 16] })] }), 400, /INPUT1/);
    assertError(await send(url, 'simple', { inputs: [in0({ shape: [2, 16], data: [...SIXTEEN, ...SIXTEEN] } as Partial<RequestInput>), in1()] }), 400, /INPUT/);
    // Nested data whose rows disagree with the shape.
    assertError(await send(url, 'simple', { inputs: [in0({ data: [SIXTEEN.slice(0, 8)] } as Partial<RequestInput>), in1()] }), 400, /INPUT0/);
    assertError(await send(url, 'simple', { inputs: [in0({ shape: [1, -16] }), in1()] }), 400);
    assertError(await send(url, 'simple', { inputs: [in0({ shape: [1, 16.5] }), in1()] }), 400);
  });

  await t.test('errors: absurd dims are refused before any allocation', async () => {
    const huge = [2147483647, 2147483647];
    assertError(await send(url, 'identity', {
      inputs: [{ name: 'INPUT_FP32', datatype: 'FP32', shape: huge, data: [1] }, { name: 'INPUT_BYTES', datatype: 'BYTES', shape: [1, 1], data: ['x'] }],
    }), 400, /INPUT_FP32/);
    assertError(await send(url, 'identity', {
      inputs: [{ name: 'INPUT_FP32', datatype: 'FP32', shape: [1, 1], data: [1] }, { name: 'INPUT_BYTES', datatype: 'BYTES', shape: huge, binary: encodeBinary('BYTES', ['x']) }],
    }), 400, /INPUT_BYTES/);
    assertError(await send(url, 'identity', {
      inputs: [{ name: 'INPUT_FP32', datatype: 'FP32', shape: [65536, 65536], binary: Buffer.alloc(16) }, { name: 'INPUT_BYTES', datatype: 'BYTES', shape: [1, 1], data: ['x'] }],
    }), 400, /INPUT_FP32/);
    assertError(await send(url, 'simple', { inputs: [in0({ shape: [2147483647, 16] }), in1()] }), 400, /INPUT0/);
    assertError(await send(url, 'simple', { inputs: [in0({ shape: [1e300, 16] }), in1()] }), 400);
    assertError(await send(url, 'simple', { inputs: [in0({ shape: Array.from({ length: 40 }, () => 1) }), in1()] }), 400);
  });

  await t.test('errors: a batch above max_batch_size (or of zero) names the input', async () => {
    const nine = Array.from({ length: 9 * 16 }, (_, i) => i % 100);
    assertError(await send(url, 'simple', {
      inputs: [in0({ shape: [9, 16], data: nine } as Partial<RequestInput>), in1({ shape: [9, 16], data: nine } as Partial<RequestInput>)],
    }), 400, /INPUT0|INPUT1/);
    assertError(await send(url, 'simple', {
      inputs: [in0({ shape: [0, 16], data: [] } as Partial<RequestInput>), in1({ shape: [0, 16], data: [] } as Partial<RequestInput>)],
    }), 400, /INPUT0|INPUT1/);
  });

  await t.test('errors: missing, unknown and duplicate inputs', async () => {
    assertError(await send(url, 'simple', { inputs: [in0()] }), 400, /INPUT1/);
    assertError(await send(url, 'simple', { inputs: [in0(), in1(), { name: 'INPUT2', datatype: 'INT32', shape: [1, 16], data: SIXTEEN }] }), 400, /INPUT2/);
    assertError(await send(url, 'simple', { inputs: [in0(), in0(), in1()] }), 400, /INPUT0/);
    assertError(await send(url, 'simple', { inputs: [in0(), { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] } as RequestInput] }), 400, /INPUT1/);
  });

  await t.test('errors: unknown or duplicate outputs and bad output parameters name the output', async () => {
    assertError(await send(url, 'simple', { inputs: [in0(), in1()], outputs: [{ name: 'OUTPUT9' }] }), 400, /OUTPUT9/);
    assertError(await send(url, 'simple', { inputs: [in0(), in1()], outputs: [{ name: 'OUTPUT0' }, { name: 'OUTPUT0' }] }), 400, /OUTPUT0/);
    assertError(await send(url, 'simple', { inputs: [in0(), in1()], outputs: [{ name: 'OUTPUT0', parameters: { classification: -1 } }] }), 400, /OUTPUT0/);
    assertError(await send(url, 'simple', { inputs: [in0(), in1()], outputs: [{ name: 'OUTPUT0', parameters: { binary_data: 'yes' } }] }), 400, /OUTPUT0/);
    assertError(await send(url, 'identity', {
      inputs: [{ name: 'INPUT_FP32', datatype: 'FP32', shape: [1, 1], data: [1] }, { name: 'INPUT_BYTES', datatype: 'BYTES', shape: [1, 1], data: ['x'] }],
      outputs: [{ name: 'OUTPUT_BYTES', parameters: { classification: 1 } }],
    }), 400, /OUTPUT_BYTES/);
    assertError(await send(url, 'simple', { inputs: [in0(), in1()], parameters: { binary_data_output: 'true' } }), 400, /binary_data_output/);
  });

  await t.test('errors: binary data of the wrong size names the input', async () => {
    const good = encodeBinary('INT32', SIXTEEN);
    const header = (size0: number) => ({
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: size0 } },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: SIXTEEN },
      ],
    });
    // baseline: the same framing with the right size works
    const ok = rawBinary(header(64), good);
    assert.equal((await postInfer(url, 'simple', ok.body, ok.headers)).status, 200);
    const short = rawBinary(header(60), good.subarray(0, 60));
    assertError(await postInfer(url, 'simple', short.body, short.headers), 400, /INPUT0/);
    const long = rawBinary(header(68), Buffer.concat([good, Buffer.alloc(4)]));
    assertError(await postInfer(url, 'simple', long.body, long.headers), 400, /INPUT0/);
    const pastEnd = rawBinary(header(64), good.subarray(0, 32));
    assertError(await postInfer(url, 'simple', pastEnd.body, pastEnd.headers), 400, /INPUT0/);
    const unclaimed = rawBinary(header(64), Buffer.concat([good, Buffer.alloc(8)]));
    assertError(await postInfer(url, 'simple', unclaimed.body, unclaimed.headers), 400);
    for (const bad of [-4, 1.5, '64']) {
      const r = rawBinary(header(0), good);
      const body = Buffer.from(r.body.toString('latin1').replace('"binary_data_size":0', `"binary_data_size":${JSON.stringify(bad)}`), 'latin1');
      const headers = { ...r.headers, 'inference-header-content-length': String(body.byteLength - good.byteLength) };
      assertError(await postInfer(url, 'simple', body, headers), 400, /INPUT0/);
    }
    // both data and binary_data_size
    const both = rawBinary({ inputs: [{ ...header(64).inputs[0], data: SIXTEEN }, header(64).inputs[1]] }, good);
    assertError(await postInfer(url, 'simple', both.body, both.headers), 400, /INPUT0/);
  });

  await t.test('errors: Inference-Header-Content-Length beyond the body, inside the JSON, or not a number', async () => {
    const r = rawBinary({ inputs: [in0({ parameters: { binary_data_size: 64 } } as Partial<RequestInput>)] }, encodeBinary('INT32', SIXTEEN));
    for (const value of [String(r.body.byteLength + 1), '99999999999', '-1', 'abc', '', '10']) {
      assertError(await postInfer(url, 'simple', r.body, { ...r.headers, 'inference-header-content-length': value }), 400);
    }
    // binary_data_size without the header: the bytes are not JSON
    assertError(await postInfer(url, 'simple', r.body, { 'content-type': 'application/octet-stream' }), 400);
  });

  await t.test('errors: malformed binary BYTES elements name the input', async () => {
    const fp = { name: 'INPUT_FP32', datatype: 'FP32', shape: [1, 1], data: [1] };
    const bytesHeader = (size: number, shape = [1, 2]) => ({ inputs: [fp, { name: 'INPUT_BYTES', datatype: 'BYTES', shape, parameters: { binary_data_size: size } }] });
    const two = encodeBinary('BYTES', ['ab', 'cd']);
    const ok = rawBinary(bytesHeader(two.byteLength), two);
    assert.equal((await postInfer(url, 'identity', ok.body, ok.headers)).status, 200);
    const cases: Buffer[] = [
      two.subarray(0, 7), // second element's length prefix cut short
      two.subarray(0, two.byteLength - 1), // second element's bytes cut short
      Buffer.concat([two, encodeBinary('BYTES', ['ef'])]), // three elements for a shape of two
      encodeBinary('BYTES', ['ab']), // one element for a shape of two
      Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x61]), // a length prefix of 2 GiB
    ];
    for (const chunk of cases) {
      const r = rawBinary(bytesHeader(chunk.byteLength), chunk);
      assertError(await postInfer(url, 'identity', r.body, r.headers), 400, /INPUT_BYTES/);
    }
  });

  await t.test('errors: bad request parameters', async () => {
    for (const parameters of [{ priority: -1 }, { priority: 1.5 }, { priority: 'high' }, { timeout: -5 }]) {
      assertError(await send(url, 'simple', { inputs: [in0(), in1()], parameters }), 400, /priority|timeout/);
    }
    assertError(await postInfer(url, 'simple', JSON.stringify({ id: 42, inputs: [in0(), in1()] })), 400, /id/);
  });

  await t.test('errors: unknown model or version is 404, an unavailable model is 503', async () => {
    const body = JSON.stringify({ inputs: [in0(), in1()] });
    assertError(await postInfer(url, 'nope', body), 404, /nope/);
    assertError(await httpRequest(`${url}/v2/models/simple/versions/5/infer`, 'POST', body, { 'content-type': 'application/json' }), 404);
    assertError(await postInfer(url, 'broken', body), 503, /broken/);
  });

  await t.test('content-encoding: gzip and deflate bodies are inflated; coding names are case-insensitive (RFC 9110 8.4.1)', async () => {
    const json = Buffer.from(JSON.stringify({ inputs: [in0(), in1()] }));
    for (const [encoding, body] of [['gzip', gzipSync(json)], ['deflate', deflateSync(json)], ['GZIP', gzipSync(json)], ['Deflate', deflateSync(json)]] as const) {
      const res = await postInfer(url, 'simple', body, { 'content-type': 'application/json', 'content-encoding': encoding });
      assert.equal(res.status, 200, `${encoding}: ${res.body.toString()}`);
    }
    assertError(await postInfer(url, 'simple', gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'br' }), 415);
    assertError(await postInfer(url, 'simple', json, { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400);
  });

  await t.test('errors: 429 with Retry-After when the queue is full, the admitted requests still succeed', async () => {
    // One request runs (a slow model), one waits in the queue of size 1, the others are shed.
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      infer(url, 'queued', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [i, 1, 2, 3] }] })));
    const shed = results.filter((r) => r.status === 429);
    assert.ok(shed.length >= 1, `statuses ${results.map((r) => r.status).join(',')}`);
    results.forEach((r, i) => {
      assert.ok(r.status === 200 || r.status === 429, `request ${i}: ${r.status} ${r.jsonText}`);
      if (r.status === 200) assert.deepEqual(r.json.outputs[0]!.data, [i, 1, 2, 3]);
      else {
        assert.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, 'Retry-After in whole seconds');
        assert.equal(typeof r.json.error, 'string');
      }
    });
  });

  await t.test('errors: 413 above --http-body-limit, also for a gzip body that inflates past it', async (t2) => {
    const cli = await startCli(t2, repo, ['--http-body-limit', '64kb']);
    const small = await infer(cli.url, 'simple', { inputs: [in0(), in1()] });
    assert.equal(small.status, 200, small.jsonText);
    const big = Buffer.concat([Buffer.from(JSON.stringify({ inputs: [in0(), in1()] })), Buffer.alloc(64 * 1024, 0x20)]);
    assertError(await postInfer(cli.url, 'simple', big), 413);
    const bomb = gzipSync(Buffer.concat([Buffer.from(JSON.stringify({ inputs: [in0(), in1()] })), Buffer.alloc(1024 * 1024, 0x20)]));
    assert.ok(bomb.byteLength < 64 * 1024);
    assertError(await postInfer(cli.url, 'simple', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 413);
    const fine = gzipSync(Buffer.from(JSON.stringify({ inputs: [in0(), in1()] })));
    const res = await postInfer(cli.url, 'simple', fine, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assert.equal(res.status, 200, res.body.toString());
    assert.equal((await httpRequest(`${cli.url}/v2/health/live`, 'GET')).status, 200, 'still serving after the refusals');
  });
});

/** The slow identity model with a batch dimension: x [batch, 4] -> y = x, slowly. */
function buildSlowBatchedModel(): Uint8Array {
  return buildSlowIdentityModel(2048, 4, true);
}
