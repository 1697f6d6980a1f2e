/**
 * Prints rows per batch and time per batch between two `/v2/models/stats` snapshots (for bench/instance-variant.sh).
 *   node --import tsx bench/lib/batch-stats.ts "$BEFORE_JSON" "$AFTER_JSON"
 */
interface Duration { count: number; ns: number }
interface ModelStats { inference_count: number; execution_count: number; inference_stats: Record<string, Duration> }

const [before, after] = process.argv.slice(2).map((s) => (JSON.parse(s) as { model_stats: ModelStats[] }).model_stats[0]!);
if (!before || !after) throw new Error('usage: batch-stats.ts BEFORE_JSON AFTER_JSON');
const batches = Math.max(1, after.execution_count - before.execution_count);
const msPerBatch = (key: string): string => ((after.inference_stats[key]!.ns - before.inference_stats[key]!.ns) / batches / 1e6).toFixed(2);
const requests = Math.max(1, after.inference_stats.success!.count - before.inference_stats.success!.count);
const msPerRequest = (key: string): string => ((after.inference_stats[key]!.ns - before.inference_stats[key]!.ns) / requests / 1e6).toFixed(2);
console.log(`   per request: ms in queue ${msPerRequest('queue')}, ms from arrival to answer ${msPerRequest('success')}`);
console.log(`   rows per batch ${((after.inference_count - before.inference_count) / batches).toFixed(1)}; ms per batch: input ${msPerBatch('compute_input')}, infer ${msPerBatch('compute_infer')}, output ${msPerBatch('compute_output')}`);
