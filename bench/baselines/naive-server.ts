/**
 * Baseline (c): the server a user writes without Modelplane — fastify, one ONNX Runtime session,
 * one `session.run` per request, no batching, no queue. It speaks the same v2 wire format
 * (JSON or binary FP32 tensors) so the same load can be sent to it.
 *   node --import tsx bench/baselines/naive-server.ts MODEL.onnx PORT
 */
import Fastify from 'fastify';
import ort from 'onnxruntime-node';

const [modelPath, port = '0'] = process.argv.slice(2);
// The bench gives every configuration the same intra-op thread count (bench/lib/cpu-plan.ts).
const threads = Number(process.env.ORT_INTRA_OP_THREADS ?? 0);
const session = await ort.InferenceSession.create(modelPath!, threads > 0 ? { intraOpNumThreads: threads } : {});
const app = Fastify({ bodyLimit: 64 << 20 });
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

interface V2Input { name: string; shape: number[]; datatype: string; data?: number[]; parameters?: { binary_data_size?: number } }

app.post('/v2/models/:model/infer', async (request, reply) => {
  const body = request.body as Buffer;
  const headerLength = Number(request.headers['inference-header-content-length'] ?? body.byteLength);
  const json = JSON.parse(body.subarray(0, headerLength).toString()) as { inputs: V2Input[]; outputs?: Array<{ name: string; parameters?: { binary_data?: boolean } }> };
  const feeds: Record<string, ort.Tensor> = {};
  let offset = headerLength;
  for (const input of json.inputs) {
    let data: Float32Array;
    const size = input.parameters?.binary_data_size;
    if (size !== undefined) {
      data = new Float32Array(body.buffer.slice(body.byteOffset + offset, body.byteOffset + offset + size));
      offset += size;
    } else {
      data = Float32Array.from(input.data!.flat(16) as number[]);
    }
    feeds[input.name] = new ort.Tensor('float32', data, input.shape);
  }
  const results = await session.run(feeds);
  const wanted = json.outputs ?? session.outputNames.map((name) => ({ name, parameters: { binary_data: false } }));
  const outputs: object[] = [];
  const chunks: Buffer[] = [];
  for (const o of wanted) {
    const t = results[o.name]!;
    if (o.parameters?.binary_data) {
      const d = t.data as Float32Array;
      chunks.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      outputs.push({ name: o.name, datatype: 'FP32', shape: t.dims, parameters: { binary_data_size: d.byteLength } });
    } else {
      outputs.push({ name: o.name, datatype: 'FP32', shape: t.dims, data: Array.from(t.data as Float32Array) });
    }
  }
  const header = Buffer.from(JSON.stringify({ model_name: 'naive', outputs }));
  if (chunks.length === 0) return reply.type('application/json').send(header);
  return reply.header('Inference-Header-Content-Length', header.byteLength).type('application/octet-stream').send(Buffer.concat([header, ...chunks]));
});

const url = await app.listen({ host: '127.0.0.1', port: Number(port) });
console.log(`LISTENING ${url}`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
