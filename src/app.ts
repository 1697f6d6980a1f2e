import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { ModelManager, type LifecycleLogger, type VersionStatus } from './lifecycle/model-manager.js';
import { OnnxBackend } from './runtime/onnx/onnx-backend.js';
import { TfjsBackend } from './runtime/tfjs/tfjs-backend.js';
import type { Backend } from './runtime/backend.js';
import { buildServer } from './server/build-server.js';
import { registerPipelineRoutes } from './server/pipelines/pipeline-routes.js';
import { registerOpenAIRoutes } from './server/openai/openai-routes.js';
import { registerTeiRoutes } from './server/tei/tei-routes.js';
import { MODELPLANE_VERSION } from './version.js';
import { servingMetricsRegistry } from './telemetry/serving-metrics.js';
import { registerGpuMetrics } from './telemetry/gpu-metrics.js';
import { startTracing, type TracingOptions } from './telemetry/tracing.js';
import { registerEmbeddingMetrics } from './telemetry/embedding-metrics.js';
import { loadPipelines } from './pipeline/load-pipelines.js';
import { createPipelineMetrics } from './pipeline/pipeline-metrics.js';
import { PipelineService } from './pipeline/pipeline-service.js';
import { PipelineWorker } from './pipeline/pipeline-worker.js';
import { ServingModelInvoker } from './pipeline/serving-invoker.js';
import { openQueueBackend } from './queue/open-backend.js';
import type { ModelControlMode, RepositoryController } from './lifecycle/repository-controller.js';
import type { TrafficRouter } from './routing/traffic-router.js';
import type { RolloutController } from './routing/rollout-controller.js';
import { registerSearch, type SearchOptions } from './server/search/register-search.js';
import { servedTextEmbedders } from './search/serving-text-embedder.js';
import { UseLiteEmbedder } from './search/use-lite-embedder.js';
import { checkAuthOptions, createControlPlane } from './control-plane.js';

export interface PipelineOptions {
  /** TS/JS module or JSON/YAML file defining the pipelines. */
  readonly file: string;
  /** Embedded queue directory (SQLite), used unless `redisUrl` is set. */
  readonly dataDir: string;
  readonly redisUrl?: string | undefined;
  /** Runs this process works on at once; 0 = serve the pipeline API only (workers run elsewhere). */
  readonly workerConcurrency: number;
}

export interface AppOptions {
  readonly repository: string;
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  /** Defaults to a pino logger at `logLevel`; false = silent. */
  readonly logger?: Logger | false;
  /** pino level when `logger` is not given; default MODELPLANE_LOG_LEVEL, LOG_LEVEL or info. */
  readonly logLevel?: string | undefined;
  /** One JSON line per request at info level (default true). */
  readonly accessLog?: boolean | undefined;
  /** GET /metrics (default true). */
  readonly metrics?: boolean | undefined;
  /** OpenTelemetry traces; off unless an OTLP endpoint (or exporter) is configured. */
  readonly tracing?: TracingOptions | undefined;
  readonly pipelines?: PipelineOptions | undefined;
  /** Model control (Triton's): `none` loads at startup only; `poll` follows the repository; `explicit` obeys load/unload. */
  readonly modelControlMode?: ModelControlMode;
  /** Poll interval for `poll` mode, in seconds (fractions allowed). */
  readonly repositoryPollSecs?: number;
  /** Directory of control.db (rollout state and history, admin traffic policies); default: kept in memory only. */
  readonly dataDir?: string;
  /** Vector collections (and evidence linking) under /v1/collections, /v1/evidence. */
  readonly search?: SearchOptions | undefined;
  /** Bearer token for repository and admin endpoints (at least 16 characters); none = loopback clients only. */
  readonly adminToken?: string | undefined;
  /** Require the admin token on model (inference) endpoints too. */
  readonly authInference?: boolean;
}

export interface RunningApp {
  readonly server: FastifyInstance;
  readonly manager: ModelManager;
  readonly controller: RepositoryController;
  readonly router: TrafficRouter;
  readonly rollouts: RolloutController;
  /** The base URL the server listens on, e.g. http://127.0.0.1:8000 */
  readonly url: string;
  readonly models: readonly VersionStatus[];
  /** Stops pipeline workers (finishing their runs), stops accepting, finishes in-flight requests, unloads models. Idempotent. */
  close(): Promise<void>;
}

const silentLogger: LifecycleLogger = { info() {}, warn() {}, error() {} };

/** Loads every model of a repository (ONNX and TF.js backends) and logs each version's state. */
export async function openModels(repository: string, log: LifecycleLogger): Promise<ModelManager> {
  const backends = new Map<string, Backend>([['onnx', new OnnxBackend()], ['tfjs', new TfjsBackend()]]);
  const manager = new ModelManager(repository, backends, log);
  for (const m of await manager.loadAll()) {
    const line = { model: m.model, version: m.version, state: m.state, ...(m.reason ? { reason: m.reason } : {}) };
    if (m.state === 'READY') log.info(line, `model ${m.model} version ${m.version}: ${m.state}`);
    else log.warn(line, `model ${m.model} version ${m.version}: ${m.state}${m.reason ? ` (${m.reason})` : ''}`);
  }
  return manager;
}

/** The composition root: repository -> runtime -> scheduler -> lifecycle -> HTTP server (+ pipelines). */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const level = options.logLevel ?? process.env.MODELPLANE_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info';
  const logger = options.logger === undefined ? pino({ level }) : options.logger;
  const log = logger === false ? silentLogger : logger;
  checkAuthOptions(options.adminToken, options.authInference ?? false);
  const manager = await openModels(options.repository, log);
  // What has been started so far, stopped in this order by close() and by a failed start: instance
  // threads, pipeline workers and the queue would otherwise keep the process alive after the error
  // (a CLI that printed EADDRINUSE and then hung).
  const parts: StartedParts = { manager };
  try {
    return await startServing(options, logger, log, parts);
  } catch (err) {
    await stopParts(parts).catch((closeErr: unknown) => log.warn({ err: closeErr }, 'cleanup after a failed start'));
    throw err;
  }
}

interface StartedParts {
  readonly manager: ModelManager;
  server?: FastifyInstance;
  tracing?: ReturnType<typeof startTracing>;
  /** Only for a start that failed before the server existed: the server's preClose hook stops it otherwise. */
  stopControl?: () => Promise<void>;
  stopWorkers?: () => Promise<void>;
  closeQueue?: () => Promise<void>;
  closeSearch?: () => void;
  closeUseLite?: () => Promise<void>;
}

/**
 * Workers finish their runs while the models are still loaded; then repository polling stops and the
 * models unload (the server's preClose and onClose hooks, after HTTP drains; without a server, here);
 * the queue closes after HTTP (pipeline routes may still be answering until then).
 */
async function stopParts(p: StartedParts): Promise<void> {
  await p.stopWorkers?.();
  if (p.server) {
    await p.server.close();
  } else {
    await p.stopControl?.();
    await p.manager.unloadAll();
  }
  await p.closeQueue?.();
  p.closeSearch?.();
  await p.closeUseLite?.();
  await p.tracing?.shutdown();
}

async function startServing(options: AppOptions, logger: Logger | false, log: LifecycleLogger, parts: StartedParts): Promise<RunningApp> {
  const { manager } = parts;
  let accepting = false;
  const metrics = servingMetricsRegistry(manager);
  if (await registerGpuMetrics(metrics)) log.info({}, 'GPU metrics from nvidia-smi');
  const tracing = options.tracing ? startTracing(options.tracing) : undefined;
  parts.tracing = tracing;
  if (tracing) log.info({ otlpEndpoint: options.tracing?.otlpEndpoint ?? 'from OTEL_EXPORTER_OTLP_* environment' }, 'tracing on');
  const control = createControlPlane(manager, metrics, log, {
    repository: options.repository,
    mode: options.modelControlMode ?? 'none',
    pollIntervalMs: Math.max(0.05, options.repositoryPollSecs ?? 15) * 1000,
    dataDir: options.dataDir ?? ':memory:',
    adminToken: options.adminToken,
    authInference: options.authInference ?? false,
  });
  parts.stopControl = () => control.stop();
  const { controller, router, rollouts } = control;
  registerEmbeddingMetrics(manager, metrics);
  const server = buildServer(manager, {
    router,
    metrics: options.metrics === false ? undefined : metrics,
    bodyLimitBytes: options.bodyLimitBytes,
    logger,
    serverVersion: MODELPLANE_VERSION,
    isReady: () => accepting && manager.allReady(),
    observability: {
      accessLog: logger !== false && options.accessLog !== false ? logger : undefined,
      tracing,
    },
  });
  parts.server = server;
  control.register(server);
  // Polling stops before the server drains, so no load starts while the models unload.
  server.addHook('preClose', async () => control.stop());

  registerOpenAIRoutes(server, manager);
  registerTeiRoutes(server, manager);

  if (options.pipelines) {
    const p = options.pipelines;
    const loaded = await loadPipelines(p.file);
    const backend = openQueueBackend({ dataDir: p.dataDir, redisUrl: p.redisUrl });
    parts.closeQueue = () => backend.close();
    const stats = createPipelineMetrics(metrics, backend, () => loaded.registry.names());
    registerPipelineRoutes(server, new PipelineService({ backend, registry: loaded.registry, stats }));
    // Model steps go through the server's own schedulers: pipeline work batches with online traffic.
    const worker = p.workerConcurrency > 0
      ? new PipelineWorker({ backend, registry: loaded.registry, invoker: new ServingModelInvoker(manager), stats, concurrency: p.workerConcurrency, onError: (err) => log.warn({ err }, 'pipeline worker') })
      : undefined;
    worker?.start();
    if (worker) parts.stopWorkers = () => worker.stop({ drain: true });
    log.info({ pipelines: loaded.registry.names(), queue: p.redisUrl ? 'redis' : p.dataDir, workerConcurrency: p.workerConcurrency }, 'pipelines ready');
  }

  // Search embeds with the served text models first (through their schedulers), USE-lite in-process as `use-lite`.
  // The app owns the USE-lite threads it starts and ends them at close; embedders passed in belong to the caller.
  const useLite = options.search && !options.search.embedders ? new UseLiteEmbedder({ onLoad: (info) => log.info(info, 'use-lite loaded') }) : undefined;
  if (useLite) parts.closeUseLite = () => useLite.close();
  const search = options.search
    ? registerSearch(server, { ...options.search, embedders: options.search.embedders ?? [...servedTextEmbedders(manager), useLite!] })
    : undefined;
  if (search) parts.closeSearch = () => search.close();
  const address = await server.listen({ host: options.host, port: options.port });
  await control.start();
  accepting = true;
  let closing: Promise<void> | undefined;
  return {
    server,
    manager,
    controller,
    router,
    rollouts,
    url: address.replace('[::1]', '127.0.0.1'),
    models: manager.statuses(),
    close: () => {
      accepting = false;
      closing ??= stopParts(parts);
      return closing;
    },
  };
}
