import { MpError } from '../../errors.js';
import type { ImageProcessingConfig } from '../../config/image-processing-config.js';
import type { Tensor, TensorMap } from '../../tensor/tensor.js';
import type { ModelInstance, ModelSignature, TensorSignature } from '../../runtime/backend.js';
import { decodeImage, type DecodedImage } from './image-decoder.js';

/**
 * The per-version image side, shared by its instances: the target size, and the pixels decoded at
 * admission (keyed by the request's own byte strings), so an instance only stacks them.
 */
export class ImagePreprocessor {
  private readonly decoded = new WeakMap<Uint8Array, DecodedImage>();

  constructor(readonly config: ImageProcessingConfig, readonly width: number, readonly height: number, private readonly where: string) {}

  /** Decodes every image of a request before it queues: a bad image is a 400 of its own. */
  async admit(images: Tensor): Promise<number> {
    const items = images.data as Uint8Array[];
    await Promise.all(items.map(async (item, row) => {
      this.decoded.set(item, await decodeImage(item, this.width, this.height, this.config, row, this.where));
    }));
    return 0;
  }

  async pixelsOf(item: Uint8Array, row: number): Promise<Float32Array> {
    return (this.decoded.get(item) ?? (await decodeImage(item, this.width, this.height, this.config, row, this.where))).pixels;
  }
}

/** The target size and the encoder input, from the config or the encoder's fixed input shape. */
export function imageTarget(encoder: ModelInstance, c: ImageProcessingConfig, where: string): { input: TensorSignature; width: number; height: number } {
  const input = c.encoder_input ? encoder.signature.inputs.find((i) => i.name === c.encoder_input) : encoder.signature.inputs[0];
  if (!input) throw new MpError('MP_CONFIG_INVALID', `${where}: image.encoder_input: the encoder has no input '${c.encoder_input ?? ''}'`);
  if (input.datatype !== 'FP32') throw new MpError('MP_CONFIG_INVALID', `${where}: image.encoder_input: '${input.name}' is ${input.datatype}, not FP32`);
  const [, h, w, channels] = input.shape.length === 4 ? input.shape : [undefined, undefined, undefined, undefined];
  if (channels !== undefined && channels !== 3 && channels !== -1) throw new MpError('MP_CONFIG_INVALID', `${where}: image: '${input.name}' is not [batch, height, width, 3]`);
  const width = c.width ?? (w !== undefined && w > 0 ? w : undefined);
  const height = c.height ?? (h !== undefined && h > 0 ? h : undefined);
  if (!width || !height) throw new MpError('MP_CONFIG_INVALID', `${where}: image.width/height: the encoder input '${input.name}' has no fixed size; set them`);
  return { input, width, height };
}

/**
 * An image model as one model: encoded images (BYTES [batch]) in, the encoder's outputs (batch
 * dimension variable) out, plus the top class name when `labels` is set. An encoder whose batch
 * dimension is fixed at 1 (e.g. CenterNet) runs once per image.
 */
export class ImageModelInstance implements ModelInstance {
  readonly signature: ModelSignature;
  private readonly perImage: boolean;

  constructor(private readonly encoder: ModelInstance, private readonly pre: ImagePreprocessor, private readonly encoderInput: string, where: string) {
    const c = pre.config;
    this.perImage = encoder.signature.inputs.find((i) => i.name === encoderInput)!.shape[0] === 1;
    const batched = (t: TensorSignature): TensorSignature => ({ ...t, shape: t.shape.length > 0 ? [-1, ...t.shape.slice(1)] : [-1] });
    const outputs = encoder.signature.outputs.map(batched);
    if (c.labels) {
      const scored = outputs.find((o) => o.name === c.labels!.output);
      if (!scored) throw new MpError('MP_CONFIG_INVALID', `${where}: image.labels.output: the encoder has no output '${c.labels.output}'`);
      const classes = scored.shape.at(-1);
      if (classes !== undefined && classes > 0 && classes !== c.labels.classes.length) {
        throw new MpError('MP_CONFIG_INVALID', `${where}: image.labels.classes: ${c.labels.classes.length} names for ${classes} classes`);
      }
      outputs.push({ name: c.labels.name, datatype: 'BYTES', shape: [-1] });
    }
    this.signature = { inputs: [{ name: c.input_name, datatype: 'BYTES', shape: [-1] }], outputs };
  }

  /** Runs the encoder once on a black image, so its first request does not pay for lazy set-up. */
  async warm(): Promise<void> {
    const size = this.pre.width * this.pre.height * 3;
    await this.encoder.run(new Map([[this.encoderInput, this.stack([new Float32Array(size).fill(this.pre.config.offset)])]]), [this.encoder.signature.outputs[0]!.name]);
  }

  async run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    const c = this.pre.config;
    const images = inputs.get(c.input_name);
    if (!images || images.datatype !== 'BYTES') throw new MpError('MP_INVALID_ARG', `missing BYTES input '${c.input_name}'`);
    const items = images.data as Uint8Array[];
    const pixels = await Promise.all(items.map((item, row) => this.pre.pixelsOf(item, row)));
    const label = c.labels;
    const wanted = [...new Set([...outputNames.filter((n) => n !== label?.name), ...(label && outputNames.includes(label.name) ? [label.output] : [])])];
    const groups = this.perImage ? pixels.map((p) => [p]) : [pixels];
    const results: TensorMap[] = [];
    for (const group of groups) results.push(await this.encoder.run(new Map([[this.encoderInput, this.stack(group)]]), wanted));
    const merged = new Map<string, Tensor>();
    for (const name of wanted) merged.set(name, concatRows(name, results.map((r) => r.get(name)!)));
    const out: TensorMap = new Map();
    for (const name of outputNames) {
      if (label && name === label.name) out.set(name, topLabels(name, merged.get(label.output)!, label.classes));
      else out.set(name, merged.get(name)!);
    }
    return out;
  }

  private stack(group: readonly Float32Array[]): Tensor {
    const size = this.pre.width * this.pre.height * 3;
    const data = new Float32Array(group.length * size);
    group.forEach((p, i) => data.set(p, i * size));
    return { name: this.encoderInput, datatype: 'FP32', shape: [group.length, this.pre.height, this.pre.width, 3], data };
  }

  release(): Promise<void> {
    return this.encoder.release();
  }
}

function concatRows(name: string, parts: readonly Tensor[]): Tensor {
  if (parts.length === 1) return parts[0]!;
  const rows = parts.reduce((s, p) => s + p.shape[0]!, 0);
  const first = parts[0]!;
  const data = new Float32Array(parts.reduce((s, p) => s + (p.data as Float32Array).length, 0));
  let at = 0;
  for (const p of parts) {
    if (p.datatype !== 'FP32') throw new MpError('MP_BACKEND', `output '${name}' is ${p.datatype}; only FP32 outputs are joined per image`);
    data.set(p.data as Float32Array, at);
    at += (p.data as Float32Array).length;
  }
  return { name, datatype: first.datatype, shape: [rows, ...first.shape.slice(1)], data };
}

function topLabels(name: string, scores: Tensor, classes: readonly string[]): Tensor {
  const rows = scores.shape[0]!;
  const width = (scores.data as Float32Array).length / Math.max(1, rows);
  const data = scores.data as Float32Array;
  const utf8 = new TextEncoder();
  const labels = Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let k = 1; k < width; k++) if (data[r * width + k]! > data[r * width + best]!) best = k;
    return utf8.encode(classes[best] ?? String(best));
  });
  return { name, datatype: 'BYTES', shape: [rows], data: labels };
}
