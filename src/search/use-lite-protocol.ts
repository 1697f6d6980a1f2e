import type { UseLiteLoadTiming } from './use-lite-session.js';

/** Messages between the USE-lite embedder and its worker threads (use-lite-worker.ts); one call in flight per thread. */
export type UseLiteRequest =
  | { readonly type: 'embed'; readonly texts: readonly string[] }
  | { readonly type: 'close' };

export type UseLiteResponse =
  | { readonly type: 'loaded'; readonly timing: UseLiteLoadTiming }
  | { readonly type: 'failed'; readonly message: string }
  /** `data` holds one vector of `dimension` floats per text, in order (not yet normalised). */
  | { readonly type: 'vectors'; readonly dimension: number; readonly data: Float32Array }
  | { readonly type: 'error'; readonly message: string };
