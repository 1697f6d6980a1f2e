export { ownedTensor, transferList, type WorkerRequest, type WorkerResponse } from '../worker-protocol.js';

export interface WorkerInit {
  readonly modelPath: string;
  /** instance_cpus: the CPUs this instance thread binds itself to before it starts ONNX Runtime. */
  readonly cpus?: string;
  readonly onnx: {
    intra_op_threads: number;
    inter_op_threads: number;
    execution_providers: string[];
    graph_optimization_level: 'disabled' | 'basic' | 'extended' | 'all';
    allow_spinning: boolean;
    huge_pages: boolean | 'auto';
  } | undefined;
}
