/**
 * A ModelInvoker that runs the example models in this process with ONNX Runtime, for running the example
 * without a server. In the server, the lead wires `ModelInvoker` to the scheduler instead, so pipeline
 * inferences share batches with online traffic; the pipeline definition does not change.
 *
 * Models are read from `$MP_MODEL_REPOSITORY/<model>/1/model.onnx` (default `examples/models`, which
 * `npm run prepare:examples` fills). When the MLP is missing there, the same seeded MLP is generated into
 * `.data/models/` so the example still runs with one command.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MpError } from '../../src/errors.js';
import type { ModelInvoker } from '../../src/pipeline/model-invoker.js';
import { OnnxBackend } from '../../src/runtime/onnx/onnx-backend.js';
import type { ModelInstance } from '../../src/runtime/backend.js';
import type { TensorMap } from '../../src/tensor/tensor.js';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';

/** The example MLP's spec, as scripts/prepare-examples.ts generates it. */
const MLP_CLASSIFIER = { features: 32, hidden: [64, 64], classes: 4, seed: 42 };

export class OnnxModelInvoker implements ModelInvoker {
  readonly #repository: string;
  readonly #instances = new Map<string, Promise<ModelInstance>>();
  readonly #backend = new OnnxBackend();
  /** ONNX instances run one batch at a time; calls queue here. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(repository = process.env.MP_MODEL_REPOSITORY ?? 'examples/models') {
    this.#repository = resolve(repository);
  }

  async infer(model: string, inputs: TensorMap, options?: { version?: string; outputs?: readonly string[] }): Promise<TensorMap> {
    const instance = await this.#instance(model, options?.version ?? '1');
    const outputs = options?.outputs ?? instance.signature.outputs.map((o) => o.name);
    const run = this.#chain.then(() => instance.run(inputs, outputs));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #instance(model: string, version: string): Promise<ModelInstance> {
    const key = `${model}@${version}`;
    let p = this.#instances.get(key);
    if (!p) {
      p = this.#backend.createInstance(this.#modelPath(model, version), undefined);
      this.#instances.set(key, p);
    }
    return p;
  }

  #modelPath(model: string, version: string): string {
    const path = join(this.#repository, model, version, 'model.onnx');
    if (existsSync(path)) return path;
    if (model !== 'mlp-classifier') throw new MpError('MP_MODEL_NOT_FOUND', `model '${model}' version ${version}: ${path} not found (run npm run prepare:examples)`);
    const generated = resolve('.data', 'models', 'mlp-classifier', version, 'model.onnx');
    if (!existsSync(generated)) {
      mkdirSync(dirname(generated), { recursive: true });
      writeFileSync(generated, buildMlpModel(MLP_CLASSIFIER));
    }
    return generated;
  }
}
