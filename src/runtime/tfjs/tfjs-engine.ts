import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { MpError } from '../../errors.js';

let ready: Promise<void> | undefined;

/**
 * Starts TF.js once per thread on its WebAssembly backend (SIMD when the CPU has it), reading the
 * .wasm files from the installed package, never from the network. `@tensorflow/tfjs-node` would be
 * faster but downloads libtensorflow at install time, which cannot work offline.
 */
export function tfjsReady(): Promise<void> {
  ready ??= start().catch((err: unknown) => {
    ready = undefined;
    throw new MpError('MP_BACKEND', `TF.js could not start its wasm backend: ${(err as Error).message}`, { cause: err });
  });
  return ready;
}

async function start(): Promise<void> {
  const require = createRequire(import.meta.url);
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(`${wasmDir}/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
  await tf.ready();
}
