import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { MpError } from '../errors.js';
import { AdminClient } from './admin-client.js';

interface ConnectionFlags {
  url: string;
  token?: string;
  json?: boolean;
}

interface IndexEntry { name: string; version: string; state: string; reason: string }
interface VersionsAnswer { name: string; versions: { version: string; state: string; reason: string }[] }
interface RolloutJson {
  id: number; model: string; candidate: number; incumbent: number; state: string; percent: number; reason: string | null;
  spec: { steps: number[] }; window?: { requests: number; errors: number; p99_ms: number };
  events?: { kind: string; percent: number; atMs: number; detail: string | null }[];
}

function withConnection(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'server URL (default: $MODELPLANE_URL or http://127.0.0.1:8000)', process.env.MODELPLANE_URL ?? 'http://127.0.0.1:8000')
    .option('--token <token>', 'admin bearer token (default: $MODELPLANE_ADMIN_TOKEN)')
    .option('--json', 'print the server\'s JSON answer');
}

function client(flags: ConnectionFlags): AdminClient {
  return new AdminClient({ url: flags.url, token: flags.token ?? process.env.MODELPLANE_ADMIN_TOKEN });
}

function print(flags: ConnectionFlags, json: unknown, text: () => string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

const versionsText = (a: VersionsAnswer) => table([['VERSION', 'STATE', 'REASON'], ...a.versions.map((v) => [v.version, v.state, v.reason])]);

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative number, got '${value}'`);
  return n;
}

function percentList(value: string): number[] {
  const steps = value.split(',').map((s) => Number(s.trim()));
  if (steps.some((s) => !Number.isFinite(s))) throw new InvalidArgumentError(`expected percentages like 5,25,50,100, got '${value}'`);
  return steps;
}

function rolloutLine(r: RolloutJson): string {
  const window = r.window ? `, step window: ${r.window.requests} requests, ${r.window.errors} errors, p99 ${r.window.p99_ms.toFixed(1)} ms` : '';
  return `rollout ${r.id}: ${r.state}, candidate ${r.candidate} at ${r.percent}% against ${r.incumbent} (steps ${r.spec.steps.join(' -> ')})${window}${r.reason ? `: ${r.reason}` : ''}`;
}

/** `modelplane models list|load|unload` and `modelplane rollout start|status|abort` against a running server. */
export function registerAdminCommands(program: Command): void {
  const models = program.command('models').description('list, load and unload models on a running server (v2 repository extension)');
  withConnection(models.command('list').description('every model version with its state and reason').option('--ready', 'only READY versions'))
    .action(async (flags: ConnectionFlags & { ready?: boolean }) => {
      const index = await client(flags).request<IndexEntry[]>('POST', '/v2/repository/index', flags.ready ? { ready: true } : {});
      print(flags, index, () => table([['MODEL', 'VERSION', 'STATE', 'REASON'], ...index.map((e) => [e.name, e.version, e.state, e.reason])]));
    });
  withConnection(models.command('load <model>').description('load (or reload) a model; needs --model-control-mode explicit').option('--config <file>', 'JSON config override'))
    .action(async (model: string, flags: ConnectionFlags & { config?: string }) => {
      const body = flags.config ? { parameters: { config: await readFile(flags.config, 'utf8') } } : {};
      const answer = await client(flags).request<VersionsAnswer>('POST', `/v2/repository/models/${encodeURIComponent(model)}/load`, body);
      print(flags, answer, () => `loaded ${model}\n${versionsText(answer)}`);
    });
  withConnection(models.command('unload <model>').description('drain and unload every version of a model; needs --model-control-mode explicit'))
    .action(async (model: string, flags: ConnectionFlags) => {
      const answer = await client(flags).request<VersionsAnswer>('POST', `/v2/repository/models/${encodeURIComponent(model)}/unload`, {});
      print(flags, answer, () => `unloaded ${model}\n${versionsText(answer)}`);
    });

  const rollout = program.command('rollout').description('canary rollouts with automatic rollback on a running server');
  withConnection(rollout.command('start <model>').description('start a canary of --candidate against the serving version'))
    .requiredOption('--candidate <version>', 'the new version', positiveNumber)
    .option('--incumbent <version>', 'the version it replaces (default: the highest other READY version)', positiveNumber)
    .option('--steps <list>', 'candidate percentages, e.g. 5,25,50,100', percentList)
    .option('--step-requests <n>', 'candidate requests each step needs', positiveNumber)
    .option('--step-seconds <s>', 'seconds each step lasts at least', positiveNumber)
    .option('--max-error-rate <r>', 'SLO: candidate error rate (0-1)', positiveNumber)
    .option('--max-p99-ms <ms>', 'SLO: candidate p99 latency', positiveNumber)
    .option('--spec <file>', 'the whole rollout spec as JSON (flags override its fields)')
    .action(async (model: string, flags: ConnectionFlags & Record<string, unknown>) => {
      const spec: Record<string, unknown> = flags.spec ? (JSON.parse(await readFile(String(flags.spec), 'utf8')) as Record<string, unknown>) : {};
      if (typeof spec !== 'object' || spec === null) throw new MpError('MP_INVALID_ARG', '--spec must hold a JSON object');
      const slo = { ...(spec.slo as object | undefined) } as Record<string, unknown>;
      const set = (target: Record<string, unknown>, key: string, value: unknown) => {
        if (value !== undefined) target[key] = value;
      };
      set(spec, 'candidate', flags.candidate);
      set(spec, 'incumbent', flags.incumbent);
      set(spec, 'steps', flags.steps);
      set(spec, 'step_requests', flags.stepRequests);
      set(spec, 'step_seconds', flags.stepSeconds);
      set(slo, 'max_error_rate', flags.maxErrorRate);
      set(slo, 'max_p99_ms', flags.maxP99Ms);
      if (Object.keys(slo).length > 0) spec.slo = slo;
      const record = await client(flags).request<RolloutJson>('POST', `/v2/admin/models/${encodeURIComponent(model)}/rollouts`, spec);
      print(flags, record, () => rolloutLine(record));
    });
  withConnection(rollout.command('status <model>').description('the running rollout and the history with its events'))
    .action(async (model: string, flags: ConnectionFlags) => {
      const status = await client(flags).request<{ current: RolloutJson | null; history: RolloutJson[] }>('GET', `/v2/admin/models/${encodeURIComponent(model)}/rollouts`);
      print(flags, status, () => {
        const lines = [status.current ? `current: ${rolloutLine(status.current)}` : `no running rollout for ${model}`];
        for (const h of status.history) {
          lines.push(rolloutLine(h));
          for (const e of h.events ?? []) lines.push(`  ${new Date(e.atMs).toISOString()}  ${e.kind.padEnd(11)} ${String(e.percent).padStart(5)}%  ${e.detail ?? ''}`.trimEnd());
        }
        return lines.join('\n');
      });
    });
  withConnection(rollout.command('abort <model>').description('send the candidate to 0% now'))
    .action(async (model: string, flags: ConnectionFlags) => {
      const record = await client(flags).request<RolloutJson>('POST', `/v2/admin/models/${encodeURIComponent(model)}/rollouts/abort`, {});
      print(flags, record, () => rolloutLine(record));
    });
}
