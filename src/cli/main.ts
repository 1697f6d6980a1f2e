import { Command } from 'commander';
import { isMpError } from '../errors.js';
import { startApp } from '../app.js';
import { MODELPLANE_VERSION } from '../version.js';
import { parseServeOptions } from './serve-options.js';

const program = new Command();
program.name('modelplane').description('Model serving: KServe v2 / Triton-compatible inference for Node.js').version(MODELPLANE_VERSION);

program
  .command('serve')
  .description('serve every model in a Triton-layout model repository over the KServe v2 REST API')
  .requiredOption('--repository <dir>', 'model repository directory')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (0 = any free port)', '8000')
  .option('--http-body-limit <size>', 'largest request body, e.g. 64mb', '64mb')
  .action(async (raw: Record<string, unknown>) => {
    const options = parseServeOptions(raw);
    const app = await startApp({
      repository: options.repository,
      host: options.host,
      port: options.port,
      bodyLimitBytes: options.httpBodyLimit,
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

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`modelplane: ${isMpError(err) ? err.message : (err as Error).stack ?? String(err)}`);
  process.exit(2);
});
