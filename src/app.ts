import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { ModelManager, type VersionStatus } from './lifecycle/model-manager.js';
import { OnnxBackend } from './runtime/onnx/onnx-backend.js';
import type { Backend } from './runtime/backend.js';
import { buildServer } from './server/build-server.js';
import { MODELPLANE_VERSION } from './version.js';
import { servingMetricsRegistry } from './telemetry/serving-metrics.js';

export interface AppOptions {
  readonly repository: string;
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  readonly logger?: Logger | false;
}

export interface RunningApp {
  readonly server: FastifyInstance;
  readonly manager: ModelManager;
  /** The base URL the server listens on, e.g. http://127.0.0.1:8000 */
  readonly url: string;
  readonly models: readonly VersionStatus[];
  /** Stops accepting, finishes in-flight requests, unloads models. Idempotent. */
  close(): Promise<void>;
}

/** The composition root: repository -> runtime -> scheduler -> lifecycle -> HTTP server. */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const logger = options.logger === undefined ? pino({ level: process.env.LOG_LEVEL ?? 'info' }) : options.logger;
  const backends = new Map<string, Backend>([['onnx', new OnnxBackend()]]);
  const log = logger === false ? silentLogger : logger;
  const manager = new ModelManager(options.repository, backends, log);
  let accepting = false;
  const metrics = servingMetricsRegistry(manager);
  const server = buildServer(manager, {
    metrics,
    bodyLimitBytes: options.bodyLimitBytes,
    logger,
    serverVersion: MODELPLANE_VERSION,
    isReady: () => accepting && manager.allReady(),
  });
  const models = await manager.loadAll();
  for (const m of models) {
    const line = { model: m.model, version: m.version, state: m.state, ...(m.reason ? { reason: m.reason } : {}) };
    if (m.state === 'READY') log.info(line, `model ${m.model} version ${m.version}: ${m.state}`);
    else log.warn(line, `model ${m.model} version ${m.version}: ${m.state}${m.reason ? ` (${m.reason})` : ''}`);
  }
  const address = await server.listen({ host: options.host, port: options.port });
  accepting = true;
  let closing: Promise<void> | undefined;
  return {
    server,
    manager,
    url: address.replace('[::1]', '127.0.0.1'),
    models,
    close: () => {
      accepting = false;
      closing ??= server.close();
      return closing;
    },
  };
}

const silentLogger = { info() {}, warn() {}, error() {} };
