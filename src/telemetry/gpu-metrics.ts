import { execFile } from 'node:child_process';
import { Gauge, type Registry } from 'prom-client';

export interface GpuReading {
  readonly gpu: string;
  readonly name: string;
  /** 0..1 */
  readonly utilization: number;
  readonly memoryUsedBytes: number;
  readonly memoryTotalBytes: number;
}

const QUERY = ['--query-gpu=index,name,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'];
const MIB = 1024 * 1024;

/** Parses `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(text: string): GpuReading[] {
  const out: GpuReading[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== 5) continue;
    const [gpu, name, util, used, total] = cells as [string, string, string, string, string];
    const numbers = [Number(util), Number(used), Number(total)];
    // "[N/A]" or "[Not Supported]" cells: leave that GPU out rather than report a made-up zero.
    if (!/^[0-9]+$/.test(gpu) || numbers.some((n) => !Number.isFinite(n))) continue;
    out.push({ gpu, name, utilization: numbers[0]! / 100, memoryUsedBytes: numbers[1]! * MIB, memoryTotalBytes: numbers[2]! * MIB });
  }
  return out;
}

function query(command: string): Promise<GpuReading[]> {
  return new Promise((resolve, reject) => {
    execFile(command, QUERY, { timeout: 2000 }, (err, stdout) => (err ? reject(err) : resolve(parseNvidiaSmi(stdout))));
  });
}

/**
 * Registers GPU utilisation and memory gauges read from `nvidia-smi` at scrape time, only when
 * `nvidia-smi` answers with at least one GPU at start: on a machine without one the metrics are
 * absent, not zero. Returns whether they were registered.
 */
export async function registerGpuMetrics(registry: Registry, command = 'nvidia-smi'): Promise<boolean> {
  const first = await query(command).catch(() => []);
  if (first.length === 0) return false;
  let pending: Promise<GpuReading[]> | undefined;
  // One nvidia-smi call per scrape, shared by the three gauges.
  const read = () => (pending ??= query(command).catch(() => [] as GpuReading[]).finally(() => setTimeout(() => (pending = undefined), 0)));
  const gauge = (name: string, help: string, value: (g: GpuReading) => number) =>
    new Gauge({
      name, help, labelNames: ['gpu', 'name'], registers: [registry],
      async collect() {
        this.reset();
        for (const g of await read()) this.set({ gpu: g.gpu, name: g.name }, value(g));
      },
    });
  gauge('modelplane_gpu_utilization_ratio', 'GPU utilisation (0..1) as nvidia-smi reports it.', (g) => g.utilization);
  gauge('modelplane_gpu_memory_used_bytes', 'GPU memory in use.', (g) => g.memoryUsedBytes);
  gauge('modelplane_gpu_memory_total_bytes', 'GPU memory in all.', (g) => g.memoryTotalBytes);
  return true;
}
