import type { VersionPolicy } from '../config/model-config.js';

/** The versions a policy serves out of those present on disk, highest first. */
export function selectVersions(policy: VersionPolicy, available: readonly number[]): number[] {
  const sorted = [...available].sort((a, b) => b - a);
  if ('latest' in policy) return sorted.slice(0, policy.latest.num_versions);
  if ('all' in policy) return sorted;
  const wanted = new Set(policy.specific.versions);
  return sorted.filter((v) => wanted.has(v));
}
