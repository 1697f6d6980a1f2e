/**
 * What the engine reports about its work. Core code takes this narrow sink (no-op by default);
 * `createPipelineMetrics` in pipeline-metrics.ts is the prom-client implementation.
 */
export interface PipelineStats {
  /** One step instance finished (`skipped`: its result was already recorded by an earlier delivery). */
  stepFinished(pipeline: string, step: string, outcome: 'completed' | 'failed' | 'skipped', seconds: number): void;
  /** A step instance is about to be tried again in-process. */
  stepRetried(pipeline: string, step: string): void;
  /** One delivery of a run ended. `items`: fan-out items the run processed (1 without fan-out). */
  runFinished(pipeline: string, outcome: 'completed' | 'retrying' | 'dead' | 'cancelled' | 'lost', seconds: number, items: number): void;
  /** A submission was refused because the queue was full. */
  submitRefused(pipeline: string): void;
}

export const NOOP_STATS: PipelineStats = {
  stepFinished() {},
  stepRetried() {},
  runFinished() {},
  submitRefused() {},
};
