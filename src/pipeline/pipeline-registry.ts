import { MpError } from '../errors.js';
import { parsePipelineDefinition, type PipelineDefinition, type PipelineInput } from './pipeline-definition.js';
import { planPipeline, type PipelinePlan } from './pipeline-dag.js';

/** What a step function sees besides its input. */
export interface StepContext {
  readonly pipeline: string;
  readonly runId: string;
  readonly step: string;
  /** Index of the fan-out item this instance works on, or null for run-level steps. */
  readonly item: number | null;
  /** 1-based try of this step instance within this delivery. */
  readonly attempt: number;
  /** Aborted on timeout, cancellation, lease loss or shutdown. */
  readonly signal: AbortSignal;
  /** Every dependency's output by step name (for fan-out deps: this item's element). */
  readonly deps: Readonly<Record<string, unknown>>;
  /** The run's input, whatever step this is. */
  readonly runInput: unknown;
}

/**
 * A step function. Input: the run input (no deps), the single dep's output, or `deps` as an object (several).
 * The output must be JSON-serialisable: it is stored so a retried run skips this step.
 */
export type StepFunction = (input: unknown, ctx: StepContext) => unknown;

export interface RegisteredPipeline {
  readonly definition: PipelineDefinition;
  readonly plan: PipelinePlan;
}

/** Pipelines by name plus the functions their steps name. Built once at start, then read-only. */
export class PipelineRegistry {
  readonly #pipelines = new Map<string, RegisteredPipeline>();
  readonly #functions = new Map<string, StepFunction>();

  /** Registers a function steps refer to by `function: name`. */
  defineFunction(name: string, fn: StepFunction): this {
    if (this.#functions.has(name) && this.#functions.get(name) !== fn) {
      throw new MpError('MP_CONFIG_INVALID', `function '${name}' is registered twice`);
    }
    this.#functions.set(name, fn);
    return this;
  }

  /** Validates (schema + DAG) and registers a pipeline. */
  add(definition: PipelineDefinition | PipelineInput): RegisteredPipeline {
    const def = parsePipelineDefinition(definition);
    if (this.#pipelines.has(def.name)) throw new MpError('MP_CONFIG_INVALID', `pipeline '${def.name}' is defined twice`);
    const reg = { definition: def, plan: planPipeline(def) };
    this.#pipelines.set(def.name, reg);
    return reg;
  }

  /** Adds what a `PipelineBuilder` built: its definition and its functions. */
  addBuilt(built: BuiltPipeline): RegisteredPipeline {
    for (const [name, fn] of built.functions) this.defineFunction(name, fn);
    return this.add(built.definition);
  }

  get(name: string): RegisteredPipeline {
    const p = this.#pipelines.get(name);
    if (!p) throw new MpError('MP_NOT_FOUND', `pipeline '${name}' not found`);
    return p;
  }

  has(name: string): boolean {
    return this.#pipelines.has(name);
  }

  names(): string[] {
    return [...this.#pipelines.keys()];
  }

  fn(name: string): StepFunction | undefined {
    return this.#functions.get(name);
  }

  /** Every function step names a registered function; call once all functions are in. */
  checkFunctions(): void {
    for (const p of this.#pipelines.values()) {
      for (const s of p.definition.steps) {
        if (s.function !== undefined && !this.#functions.has(s.function)) {
          throw new MpError('MP_CONFIG_INVALID', `pipeline '${p.definition.name}' step '${s.name}': function '${s.function}' is not registered`);
        }
      }
    }
  }
}

export interface BuiltPipeline {
  readonly definition: PipelineInput;
  readonly functions: ReadonlyMap<string, StepFunction>;
}

type StepOptions = Omit<PipelineInput['steps'][number], 'name' | 'function' | 'model'>;
type PipelineOptions = Omit<PipelineInput, 'name' | 'steps'>;

/**
 * The typed TS form of a pipeline; `build()` yields the same definition the JSON/YAML form parses to.
 *
 * ```ts
 * definePipeline('texts', { maxQueued: 100 })
 *   .step('read', readFiles, { fanOut: true })
 *   .model('classify', 'mlp-classifier', { outputs: ['label'] })
 *   .step('store', store, { join: true })
 *   .build();
 * ```
 * `after` defaults to the previous step.
 */
export class PipelineBuilder {
  readonly #name: string;
  readonly #options: PipelineOptions;
  readonly #steps: PipelineInput['steps'] = [];
  readonly #functions = new Map<string, StepFunction>();

  constructor(name: string, options: PipelineOptions = {}) {
    this.#name = name;
    this.#options = options;
  }

  step(name: string, fn: StepFunction, options: StepOptions = {}): this {
    const fnName = `${this.#name}.${name}`;
    this.#functions.set(fnName, fn);
    this.#steps.push({ ...options, name, function: fnName });
    return this;
  }

  model(name: string, model: string, options: StepOptions = {}): this {
    this.#steps.push({ ...options, name, model });
    return this;
  }

  build(): BuiltPipeline {
    const definition: PipelineInput = { ...this.#options, name: this.#name, steps: [...this.#steps] };
    planPipeline(parsePipelineDefinition(definition)); // fail at build time, not on the first run
    return { definition, functions: new Map(this.#functions) };
  }
}

export function definePipeline(name: string, options?: PipelineOptions): PipelineBuilder {
  return new PipelineBuilder(name, options);
}
