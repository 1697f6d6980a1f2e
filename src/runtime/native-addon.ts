import { createRequire } from 'node:module';

/**
 * The system calls Node has no API for, from the small N-API addon in native/ that `npm install`
 * builds with node-gyp: `madvise` (huge-pages.ts) and `sched_setaffinity` (cpu-affinity.ts).
 */
export interface NativeAddon {
  /** 0 = advised and collapsed; errno > 0 = not advised; -errno = advised, not collapsed now. */
  adviseHugePages(start: bigint, length: bigint): number;
  /** Binds the calling thread to these CPUs; 0 or the errno. */
  setThreadAffinity(cpus: readonly number[]): number;
}

let addon: NativeAddon | Error | undefined;

/** The addon, or why it cannot be used here (not Linux, or not built). */
export function nativeAddon(): NativeAddon | Error {
  if (addon) return addon;
  if (process.platform !== 'linux') return (addon = new Error(`needs Linux (this is ${process.platform})`));
  try {
    // src/runtime/ and dist/runtime/ are both two levels below the package root.
    const require = createRequire(import.meta.url);
    addon = require(new URL('../../native/build/Release/modelplane_native.node', import.meta.url).pathname) as NativeAddon;
  } catch (err) {
    addon = new Error(`the native addon is not built (npm install builds native/ with node-gyp): ${(err as Error).message}`);
  }
  return addon;
}
