import type * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { MpError } from '../../errors.js';
import type { ModelConfig } from '../../config/model-config.js';
import type { TensorMap } from '../../tensor/tensor.js';
import type { Backend, ModelInstance, ModelSignature, TensorSignature } from '../backend.js';
import { checkAffinitySupported } from '../cpu-affinity.js';
import { WorkerInstance } from '../worker-instance.js';
import { tfjsReady } from './tfjs-engine.js';
import { readArtifacts } from './tfjs-io.js';
import { datatypeFromTfjs, fromTfjsTensor, toTfjsTensor } from './tfjs-tensors.js';

/** The part of a TF.js LayersModel this backend uses (tfjs-layers is imported only for layers models). */
interface LayersModelLike {
  readonly inputs: ReadonlyArray<{ shape: ReadonlyArray<number | null>; dtype: string }>;
  readonly outputs: ReadonlyArray<{ shape: ReadonlyArray<number | null>; dtype: string }>;
  readonly inputLayers: ReadonlyArray<{ name: string }>;
  readonly outputLayers: ReadonlyArray<{ name: string }>;
  readonly layers: ReadonlyArray<{ name: string }>;
  predict(x: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
  dispose(): unknown;
}

/**
 * TF.js (graph and layers models from `model.json` + weight shards) behind the Backend interface, on
 * the WebAssembly backend. TF.js's wasm kernels are synchronous, so by default each instance runs in
 * its own worker thread (`instance_kind: worker`) and the main thread keeps parsing and answering
 * requests; `inline` runs it on the main thread (no message hop).
 */
export class TfjsBackend implements Backend {
  readonly name = 'tfjs' as const;
  readonly platform = 'tfjs';

  createInstance(modelPath: string, config: ModelConfig | undefined): Promise<ModelInstance> {
    const modelType = config?.tfjs.model_type ?? 'auto';
    if (config?.instance_kind === 'inline') return loadTfjsInstance(modelPath, modelType);
    if (config?.instance_cpus !== undefined) checkAffinitySupported();
    const init: TfjsWorkerInit = { modelPath, modelType, cpus: config?.instance_cpus };
    return WorkerInstance.start(import.meta.url, './tfjs-worker', init, 'TF.js');
  }
}

/** What a TF.js instance thread needs to load its model. */
export interface TfjsWorkerInit {
  readonly modelPath: string;
  readonly modelType: 'auto' | 'graph' | 'layers';
  /** instance_cpus: the CPUs this instance thread binds itself to before it loads the model. */
  readonly cpus?: string;
}

/** Loads a TF.js model on the calling thread. */
export async function loadTfjsInstance(modelPath: string, wanted: TfjsWorkerInit['modelType']): Promise<ModelInstance> {
  await tfjsReady();
  const artifacts = await readArtifacts(modelPath);
  const type = wanted !== 'auto' ? wanted : artifacts.format === 'layers-model' ? 'layers' : 'graph';
  try {
    if (type === 'graph') return new GraphInstance(await loadGraphModel(artifacts.handler), modelPath);
    const layers = await import('@tensorflow/tfjs-layers');
    return new LayersInstance((await layers.loadLayersModel(artifacts.handler)) as unknown as LayersModelLike, modelPath);
  } catch (err) {
    if (err instanceof MpError) throw err;
    throw new MpError('MP_BACKEND', `TF.js could not load ${modelPath} as a ${type} model: ${(err as Error).message}`, { cause: err });
  }
}

function signatureOf(name: string, shape: ReadonlyArray<number | null> | undefined, dtype: string | undefined, modelPath: string): TensorSignature {
  const datatype = datatypeFromTfjs(dtype);
  if (!datatype) throw new MpError('MP_UNSUPPORTED', `${modelPath}: '${name}' has unsupported TF.js dtype ${dtype}`);
  return { name, datatype, shape: (shape ?? []).map((d) => (d === null || d < 0 ? -1 : d)) };
}

async function collect(names: readonly string[], produced: tf.Tensor | tf.Tensor[]): Promise<TensorMap> {
  const list = Array.isArray(produced) ? produced : [produced];
  try {
    const out: TensorMap = new Map();
    for (let i = 0; i < names.length; i++) out.set(names[i]!, await fromTfjsTensor(names[i]!, list[i]!));
    return out;
  } finally {
    for (const t of list) t.dispose();
  }
}

function backendError(err: unknown): MpError {
  return err instanceof MpError ? err : new MpError('MP_BACKEND', `TF.js: ${(err as Error).message}`, { cause: err });
}

class GraphInstance implements ModelInstance {
  readonly signature: ModelSignature;
  private released = false;

  constructor(private readonly model: GraphModel, modelPath: string) {
    this.signature = {
      inputs: model.inputs.map((t) => signatureOf(t.name, t.shape, t.dtype, modelPath)),
      outputs: model.outputs.map((t) => signatureOf(t.name, t.shape, t.dtype, modelPath)),
    };
  }

  async run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    const feeds: Record<string, tf.Tensor> = {};
    for (const t of inputs.values()) feeds[t.name] = toTfjsTensor(t);
    try {
      // executeAsync handles control flow and dynamic ops (USE's sparse encoder needs it).
      return await collect(outputNames, await this.model.executeAsync(feeds, [...outputNames]));
    } catch (err) {
      throw backendError(err);
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.model.dispose();
  }
}

/**
 * Layers models take and give tensors by position. The served names are their input and output
 * layers' names, as model.json has them (symbolic tensor names get suffixes when a thread loads a
 * model twice).
 */
class LayersInstance implements ModelInstance {
  readonly signature: ModelSignature;
  private readonly inputNames: string[];
  private readonly outputNames: string[];
  private released = false;

  constructor(private readonly model: LayersModelLike, modelPath: string) {
    // A Sequential model lists no input/output layers: its one input is named as Keras names it.
    this.inputNames = model.inputLayers.length > 0 ? model.inputLayers.map((l) => l.name) : [`${model.layers[0]!.name}_input`];
    this.outputNames = model.outputLayers.length > 0 ? model.outputLayers.map((l) => l.name) : [model.layers.at(-1)!.name];
    this.signature = {
      inputs: model.inputs.map((t, i) => signatureOf(this.inputNames[i]!, t.shape, t.dtype, modelPath)),
      outputs: model.outputs.map((t, i) => signatureOf(this.outputNames[i]!, t.shape, t.dtype, modelPath)),
    };
  }

  async run(inputs: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    const feeds = this.inputNames.map((name) => {
      const t = inputs.get(name);
      if (!t) throw new MpError('MP_INVALID_ARG', `missing input '${name}'`);
      return toTfjsTensor(t);
    });
    try {
      const produced = this.model.predict(feeds.length === 1 ? feeds[0]! : feeds);
      const list = Array.isArray(produced) ? produced : [produced];
      const wanted = outputNames.map((name) => {
        const i = this.outputNames.indexOf(name);
        if (i < 0) throw new MpError('MP_INVALID_ARG', `unknown output '${name}'`);
        return list[i]!;
      });
      for (const t of list) if (!wanted.includes(t)) t.dispose();
      return await collect(outputNames, wanted);
    } catch (err) {
      throw backendError(err);
    } finally {
      for (const t of feeds) t.dispose();
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.model.dispose();
  }
}
