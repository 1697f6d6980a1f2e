import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import { openModels } from '../app.js';
import { MpError, isMpError } from '../errors.js';
import { loadPipelines, type LoadedPipelines } from '../pipeline/load-pipelines.js';
import { HttpModelInvoker } from '../pipeline/http-model-invoker.js';
import type { ModelInvoker } from '../pipeline/model-invoker.js';
import { ServingModelInvoker } from '../pipeline/serving-invoker.js';
import { PipelineService } from '../pipeline/pipeline-service.js';
import { PipelineWorker } from '../pipeline/pipeline-worker.js';
import { openQueueBackend } from '../queue/open-backend.js';
import type { QueueBackend } from '../queue/queue-backend.js';
import { ProgressBar } from './progress-bar.js';

interface BackendFlags {
  pipelines: string;
  dataDir: string;
  redis?: string;
  redisPrefix?: string;
  maxStalls?: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

function withBackendOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--pipelines <file>', 'TS/JS module or JSON/YAML file defining the pipelines and their functions')
    .option('--data-dir <dir>', 'embedded queue directory (SQLite), used unless --redis is given', './.data')
    .option('--redis <url>', 'distributed queue: BullMQ on this Redis, e.g. redis://127.0.0.1:6379')
    .option('--redis-prefix <prefix>', 'Redis key prefix', 'mp')
    .option('--max-stalls <n>', 'lease expiries a run may suffer before it is dead-lettered', positiveInt);
}

interface ModelFlags {
  repository?: string;
  modelsUrl?: string;
}

function withModelOptions(cmd: Command): Command {
  return cmd
    .option('--models-url <url>', 'run model steps on this Modelplane server (v2 binary protocol), batched with its traffic')
    .option('--repository <dir>', 'run model steps on models loaded in this process from a model repository');
}

/** Where model steps run: a server, an in-process repository, or whatever the pipelines module exports. */
async function invokerFor(flags: ModelFlags, loaded: LoadedPipelines): Promise<{ invoker: ModelInvoker | undefined; close(): Promise<void> }> {
  if (flags.modelsUrl && flags.repository) throw new MpError('MP_INVALID_ARG', 'give --models-url or --repository, not both');
  if (flags.modelsUrl) return { invoker: new HttpModelInvoker(flags.modelsUrl), close: async () => {} };
  if (flags.repository) {
    const manager = await openModels(flags.repository, stderrLogger);
    return { invoker: new ServingModelInvoker(manager), close: () => manager.unloadAll() };
  }
  return { invoker: loaded.invoker ?? undefined, close: async () => {} };
}

const stderrLogger = {
  info(_obj: object, msg: string) {
    process.stderr.write(`${msg}\n`);
  },
  warn(_obj: object, msg: string) {
    process.stderr.write(`warning: ${msg}\n`);
  },
  error(_obj: object, msg: string) {
    process.stderr.write(`error: ${msg}\n`);
  },
};

function backendOf(flags: BackendFlags): QueueBackend {
  return openQueueBackend({ dataDir: flags.dataDir, redisUrl: flags.redis, redisPrefix: flags.redisPrefix, maxStalls: flags.maxStalls });
}

/** Registers `modelplane worker` and `modelplane pipeline run` on a commander program. */
export function registerPipelineCommands(program: Command): void {
  withModelOptions(withBackendOptions(program.command('worker')))
    .description('run pipeline workers in this process until SIGTERM/SIGINT')
    .option('--concurrency <n>', 'runs held at once by this process (bounded prefetch)', positiveInt, 4)
    .option('--only <names>', 'comma-separated pipelines to serve (default: all in the file)')
    .action(async (flags: BackendFlags & ModelFlags & { concurrency: number; only?: string }) => {
      const loaded = await loadPipelines(flags.pipelines);
      const models = await invokerFor(flags, loaded);
      const backend = backendOf(flags);
      const worker = new PipelineWorker({
        backend, registry: loaded.registry, invoker: models.invoker, concurrency: flags.concurrency,
        pipelines: flags.only?.split(',').map((s) => s.trim()).filter(Boolean),
        onError: (err) => process.stderr.write(`worker: ${(err as Error).message}\n`),
      });
      worker.start();
      process.stderr.write(`worker ${worker.id} serving ${(flags.only ?? loaded.registry.names().join(','))} (pid ${process.pid})\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          void worker.stop({ drain: true }).then(() => backend.close()).then(() => models.close()).then(done);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });

  const pipeline = program.command('pipeline').description('submit and inspect pipeline runs');
  withModelOptions(withBackendOptions(pipeline.command('run <name>')))
    .description('submit one run per input file and show progress until every run has finished')
    .requiredOption('--input <files...>', 'input files; each becomes one run with input {"path", "name"}')
    .option('--key-prefix <prefix>', 'idempotency key per file (<prefix>:<absolute path>): re-running submits nothing twice')
    .option('--with-worker [n]', 'also run an in-process worker with this concurrency (embedded, one command)', (v) => positiveInt(v))
    .option('--no-wait', 'submit and exit without waiting')
    .option('--submit-timeout-ms <ms>', 'how long one submission waits for room in a full queue', positiveInt, 60_000)
    .action(async (name: string, flags: BackendFlags & ModelFlags & { input: string[]; keyPrefix?: string; withWorker?: number | true; wait: boolean; submitTimeoutMs: number }) => {
      const loaded = await loadPipelines(flags.pipelines);
      const backend = backendOf(flags);
      const service = new PipelineService({ backend, registry: loaded.registry });
      let worker: PipelineWorker | null = null;
      let models: { close(): Promise<void> } | null = null;
      if (flags.withWorker !== undefined) {
        const chosen = await invokerFor(flags, loaded);
        models = chosen;
        worker = new PipelineWorker({ backend, registry: loaded.registry, invoker: chosen.invoker, concurrency: flags.withWorker === true ? 4 : flags.withWorker, pipelines: [name] });
        worker.start();
      }
      const bar = new ProgressBar(process.stderr, flags.input.length, name);
      const counts = { completed: 0, dead: 0, cancelled: 0 };
      const finished = new Map<string, string>();
      const runIds: string[] = [];
      const submitted = new Set<string>();
      const stopEvents = await service.subscribe(name, (e) => {
        if ((e.type === 'completed' || e.type === 'dead' || e.type === 'cancelled') && submitted.has(e.runId) && !finished.has(e.runId)) {
          finished.set(e.runId, e.type);
          counts[e.type]++;
          bar.update(counts);
        }
      });
      try {
        for (const file of flags.input) {
          const path = resolve(file);
          const key = flags.keyPrefix === undefined ? undefined : `${flags.keyPrefix}:${createHash('sha256').update(path).digest('hex').slice(0, 32)}`;
          const r = await service.submit(name, { path, name: basename(path) }, { idempotencyKey: key, waitTimeoutMs: flags.submitTimeoutMs });
          runIds.push(r.runId);
          submitted.add(r.runId);
        }
        process.stderr.write(`submitted ${runIds.length} runs to '${name}'\n`);
        if (flags.wait) {
          // Events drive the bar; a status sweep catches runs that finished before we listened or events we missed.
          while (finished.size < runIds.length) {
            for (const id of runIds) {
              if (finished.has(id)) continue;
              const s = await service.status(name, id);
              if (s.state === 'completed' || s.state === 'dead' || s.state === 'cancelled') {
                finished.set(id, s.state);
                counts[s.state]++;
              }
            }
            bar.update(counts);
            if (finished.size < runIds.length) await sleep(500);
          }
          bar.finish();
          const out = await Promise.all(runIds.map((id) => service.status(name, id)));
          for (const s of out) process.stdout.write(`${JSON.stringify({ runId: s.id, state: s.state, error: s.error, result: s.result })}\n`);
          if (counts.dead > 0) process.exitCode = 2;
        } else {
          for (const id of runIds) process.stdout.write(`${id}\n`);
        }
      } finally {
        await stopEvents();
        await worker?.stop({ drain: true });
        await backend.close();
        await models?.close();
      }
    });
}

/** Prints an MpError's message (or the stack of anything else) and sets the exit code. */
export function reportCliError(err: unknown): void {
  process.stderr.write(isMpError(err) ? `error: ${err.code}: ${err.message}\n` : `${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
