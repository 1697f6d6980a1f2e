// Starts a TypeScript worker module through tsx when Modelplane runs from its sources: on Node 20,
// worker threads do not inherit the parent's module loader hooks. Compiled builds do not use this.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.tsWorkerUrl, import.meta.url);
