import { readFileSync } from 'node:fs';
import { MpError } from '../errors.js';
import { nativeAddon, type NativeAddon } from './native-addon.js';

/**
 * Model weights on 2 MiB pages. ONNX Runtime mallocs a model's weights on 4 KiB pages; a batch-1
 * inference of a memory-bound model (a wide MLP, an encoder) streams every weight once, taking a
 * TLB miss every 4 KiB. With 2 MiB pages it takes one every 2 MiB: measured on the 352 MB bench
 * model, batch 1 in 9.8 ms instead of 10.9 (docs/benchmarks.md, "Session 9").
 *
 * How: list this process's anonymous memory before the runtime loads a model and again after; the
 * regions that appeared are what the load allocated (the weights, prepacked). Each is advised
 * (MADV_HUGEPAGE) and collapsed at once (MADV_COLLAPSE, Linux 6.1) through the native
 * addon in native/, which works whatever the machine's transparent-huge-page mode (except `never`).
 */

/** Smaller regions gain nothing worth a collapse (and are mostly the allocator's own arenas). */
export const MIN_REGION_BYTES = 4 * 2 ** 20;

/** A region of this process's address space, as /proc/self/maps lists it. */
interface Region {
  readonly start: bigint;
  readonly end: bigint;
  readonly key: string;
}

/** The addon, when huge pages can be used on this machine; else why not. */
function hugePageAddon(): NativeAddon | string {
  const native = nativeAddon();
  if (native instanceof Error) return `huge pages: ${native.message}`;
  try {
    if (/\[never\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))) return 'transparent huge pages are disabled on this machine (never)';
  } catch {
    return 'this kernel has no transparent huge pages';
  }
  return native;
}

/** Why huge pages cannot be used on this machine, or undefined when they can. */
export function hugePagesUnavailable(): string | undefined {
  const native = hugePageAddon();
  return typeof native === 'string' ? native : undefined;
}

/** Anonymous, private, writable regions: what malloc hands out (named files and stacks excluded). */
export function anonymousRegions(maps = readFileSync('/proc/self/maps', 'utf8')): Region[] {
  const out: Region[] = [];
  for (const line of maps.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) rw-p \S+ \S+ 0(?:\s+(.*))?$/.exec(line);
    if (!match) continue;
    const name = match[3] ?? '';
    if (name !== '' && name !== '[heap]' && !name.startsWith('[anon')) continue;
    out.push({ start: BigInt(`0x${match[1]}`), end: BigInt(`0x${match[2]}`), key: `${match[1]}-${match[2]}` });
  }
  return out;
}

/** What is mapped now, to compare with after a load. */
function snapshotRegions(): ReadonlySet<string> {
  return new Set(anonymousRegions().map((r) => r.key));
}

/**
 * Advises and collapses the anonymous regions of at least MIN_REGION_BYTES that appeared since
 * `before`; returns the bytes of them the kernel then reports on huge pages. A region the kernel
 * refuses (gone since it was listed) or does not collapse now (khugepaged may later) counts only
 * for what is on huge pages. Called on the thread that loaded the model, right after the load.
 */
function adviseNewRegions(native: NativeAddon, before: ReadonlySet<string>): number {
  const fresh = anonymousRegions().filter((r) => !before.has(r.key) && r.end - r.start >= BigInt(MIN_REGION_BYTES));
  for (const region of fresh) native.adviseHugePages(region.start, region.end - region.start);
  return hugeBytesIn(fresh);
}

/** AnonHugePages of the given regions, from /proc/self/smaps. */
function hugeBytesIn(regions: readonly Region[]): number {
  if (regions.length === 0) return 0;
  const wanted = new Set(regions.map((r) => r.key));
  let inWanted = false;
  let kib = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^([0-9a-f]+-[0-9a-f]+) /.exec(line);
    if (header) inWanted = wanted.has(header[1]!);
    else if (inWanted && line.startsWith('AnonHugePages:')) kib += Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return kib * 1024;
}

export type HugePagesSetting = boolean | 'auto';

/**
 * Runs a model load (on the thread that will run the model) and, where `setting` asks and the
 * machine can, puts the memory it allocated on huge pages; `hugePageBytes` is how much went there
 * (undefined where none was tried). `true` where the machine cannot throws, so the model is
 * UNAVAILABLE with the reason instead of silently slower.
 */
export async function loadOnHugePages<T>(setting: HugePagesSetting, load: () => Promise<T>): Promise<{ value: T; hugePageBytes: number | undefined }> {
  const native = setting === false ? 'off' : hugePageAddon();
  if (typeof native === 'string') {
    if (setting === true) throw new MpError('MP_UNSUPPORTED', `onnx.huge_pages: ${native}`);
    return { value: await load(), hugePageBytes: undefined };
  }
  const before = snapshotRegions();
  const value = await load();
  return { value, hugePageBytes: adviseNewRegions(native, before) };
}
