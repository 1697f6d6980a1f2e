import { join } from 'node:path';
import { Command } from 'commander';
import { startApp } from '../app.js';
import { MODELPLANE_VERSION } from '../version.js';
import { parseServeOptions } from './serve-options.js';
import { registerPipelineCommands, reportCliError } from './pipeline-commands.js';
import { registerSearchCommands } from './search-commands.js';
import { registerEvidenceCommands } from './evidence-commands.js';
import { registerAdminCommands } from './admin-commands.js';

const program = new Command();
program.name('modelplane').description('Model serving: KServe v2 / Triton-compatible inference for Node.js').version(MODELPLANE_VERSION);

program
  .command('serve')
  .description('serve every model in a Triton-layout model repository over the KServe v2 REST API')
  .requiredOption('--repository <dir>', 'model repository directory')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (0 = any free port)', '8000')
  .option('--http-body-limit <size>', 'largest request body, e.g. 64mb', '64mb')
  .option('--pipelines <file>', 'also serve these pipelines at /v1/pipelines (TS/JS module or JSON/YAML)')
  .option('--data-dir <dir>', 'data directory: rollout state and history (control.db), the embedded pipeline queue unless --redis', './.data')
  .option('--redis <url>', 'pipeline queue on Redis (BullMQ), e.g. redis://127.0.0.1:6379')
  .option('--pipeline-workers <n>', 'pipeline runs this process works on at once (0 = none, workers run elsewhere)', '4')
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default: $MODELPLANE_LOG_LEVEL, $LOG_LEVEL or info)')
  .option('--no-access-log', 'no JSON line per request')
  .option('--no-metrics', 'do not serve GET /metrics')
  .option('--otlp-endpoint <url>', 'export OpenTelemetry traces over OTLP/HTTP to this base URL (also $OTEL_EXPORTER_OTLP_ENDPOINT)')
  .option('--trace-sample-ratio <r>', 'share of new traces recorded, 0..1 (incoming sampled traceparents always are)', '1')
  .option('--model-control-mode <mode>', 'none (load at startup), poll (follow the repository), explicit (load/unload API)', 'none')
  .option('--repository-poll-secs <s>', 'seconds between repository scans in poll mode', '15')
  .option('--admin-token <token>', 'bearer token for repository and admin endpoints (default: $MODELPLANE_ADMIN_TOKEN; none = loopback clients only)')
  .option('--auth-inference', 'require the admin token on model (inference) endpoints too')
  .action(async (raw: Record<string, unknown>) => {
    const token = raw.adminToken ?? process.env.MODELPLANE_ADMIN_TOKEN;
    const options = parseServeOptions({ ...raw, ...(token ? { adminToken: token } : {}) });
    const app = await startApp({
      repository: options.repository,
      host: options.host,
      port: options.port,
      bodyLimitBytes: options.httpBodyLimit,
      logLevel: options.logLevel,
      accessLog: options.accessLog,
      metrics: options.metrics,
      tracing: { otlpEndpoint: options.otlpEndpoint, sampleRatio: options.traceSampleRatio },
      modelControlMode: options.modelControlMode,
      repositoryPollSecs: options.repositoryPollSecs,
      dataDir: options.dataDir,
      adminToken: options.adminToken,
      authInference: options.authInference,
      pipelines: options.pipelines
        ? { file: options.pipelines, dataDir: options.dataDir, redisUrl: options.redis, workerConcurrency: options.pipelineWorkers }
        : undefined,
      search: { dataDir: join(options.dataDir, 'search') },
    });
    app.server.log.info({ url: app.url }, `modelplane ${MODELPLANE_VERSION} listening on ${app.url}`);
    // SIGTERM/SIGINT: stop accepting, finish in-flight requests, unload, exit 0.
    const stop = (signal: string) => {
      app.server.log.info({ signal }, 'shutting down: finishing in-flight requests');
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          app.server.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

registerPipelineCommands(program);
registerSearchCommands(program);
registerEvidenceCommands(program);
registerAdminCommands(program);

program.parseAsync(process.argv).catch(reportCliError);
