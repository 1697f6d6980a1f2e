/**
 * Baseline (e): the HTTP ceiling — a server that parses every request exactly as Modelplane does
 * and answers a ready-made response of the real size, running no model. On a tiny model this,
 * not ONNX Runtime, bounds what any HTTP server can deliver.
 *   node --import tsx bench/baselines/parse-only-server.ts RESPONSE_SHAPE_JSON PORT
 */
import Fastify from 'fastify';
import { parseInferRequest } from '../../src/server/v2/infer-request-parser.js';
import { writeInferResponse } from '../../src/server/v2/infer-response-writer.js';

const [outputsJson, port = '0'] = process.argv.slice(2);
const outputSpecs = JSON.parse(outputsJson!) as Array<{ name: string; shape: number[] }>;
const app = Fastify({ bodyLimit: 64 << 20 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

app.post('/v2/models/:model/infer', async (request, reply) => {
  const h = request.headers['inference-header-content-length'];
  const parsed = parseInferRequest(request.body as Buffer, Array.isArray(h) ? h[0] : h, undefined, 64 << 20);
  const rows = [...parsed.inputs.values()][0]!.shape[0]!;
  const outputs = new Map(outputSpecs.map((o) => {
    const shape = [rows, ...o.shape.slice(1)];
    return [o.name, { name: o.name, datatype: 'FP32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }];
  }));
  const res = writeInferResponse('parse-only', 1, parsed, outputs, outputSpecs.map((o) => o.name), true);
  if (res.headerLength !== undefined) void reply.header('Inference-Header-Content-Length', String(res.headerLength)).type('application/octet-stream');
  else void reply.type('application/json');
  return reply.send(res.body);
});

const url = await app.listen({ host: '127.0.0.1', port: Number(port) });
console.log(`LISTENING ${url}`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
