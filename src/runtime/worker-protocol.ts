import type { Tensor } from '../tensor/tensor.js';
import type { ModelSignature } from './backend.js';

/** Messages between an instance and its worker thread (any backend). */
export type WorkerRequest =
  | { readonly type: 'run'; readonly id: number; readonly inputs: Tensor[]; readonly outputs: string[] }
  | { readonly type: 'release' };

export type WorkerResponse =
  | { readonly type: 'loaded'; readonly signature: ModelSignature; readonly hugePageBytes?: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly outputs: Tensor[] }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/**
 * Buffers that can move to the other thread instead of being copied: those a tensor's data owns
 * whole. A view into a larger buffer (e.g. a request body) must be copied, never transferred.
 */
export function transferList(tensors: Iterable<Tensor>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const t of tensors) {
    if (Array.isArray(t.data)) continue;
    const view = t.data as ArrayBufferView;
    if (view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) out.add(view.buffer);
  }
  return [...out];
}

/** Makes every tensor own its buffer, copying views into shared or larger buffers. */
export function ownedTensor(t: Tensor): Tensor {
  if (Array.isArray(t.data)) return t;
  const view = t.data as ArrayBufferView & { slice(): ArrayBufferView };
  if (view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) return t;
  return { ...t, data: view.slice() as Tensor['data'] };
}
