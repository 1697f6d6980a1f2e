import { z } from 'zod';
import { MpError } from '../errors.js';
import { describeIssues } from '../config/zod-issues.js';

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** "64mb", "1048576", "512k" -> bytes. */
const ByteSize = z.string().transform((text, ctx) => {
  const m = /^\s*([0-9]+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a size (e.g. 67108864, 64mb, 512k)` });
    return z.NEVER;
  }
  return Number(m[1]) * unit;
}).pipe(z.int().positive().max(2 ** 31 - 1));

export const ServeOptionsSchema = z.strictObject({
  repository: z.string().min(1),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().pipe(z.int().min(0).max(65535)).default(8000),
  /** 64 MiB, Triton's default HTTP body limit. */
  httpBodyLimit: ByteSize.default(64 * 1024 * 1024),
  /** Pipelines served at /v1/pipelines; their model steps use this server's schedulers. */
  pipelines: z.string().min(1).optional(),
  dataDir: z.string().min(1).default('./.data'),
  redis: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  pipelineWorkers: z.coerce.number().pipe(z.int().min(0).max(1024)).default(4),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  accessLog: z.boolean().default(true),
  metrics: z.boolean().default(true),
  otlpEndpoint: z.url({ protocol: /^https?$/ }).optional(),
  traceSampleRatio: z.coerce.number().pipe(z.number().min(0).max(1)).default(1),
  modelControlMode: z.enum(['none', 'poll', 'explicit']).default('none'),
  /** Seconds between repository scans in poll mode (Triton's --repository-poll-secs). */
  repositoryPollSecs: z.coerce.number().pipe(z.number().min(0.05).max(86400)).default(15),
  /** From --admin-token, else the MODELPLANE_ADMIN_TOKEN environment variable. */
  adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
  authInference: z.boolean().default(false),
});
export type ServeOptions = z.infer<typeof ServeOptionsSchema>;

export function parseServeOptions(raw: unknown): ServeOptions {
  const r = ServeOptionsSchema.safeParse(raw);
  if (!r.success) {
    const why = describeIssues(r.error)
      .replace(/\bhttpBodyLimit\b/g, '--http-body-limit')
      .replace(/\bpipelineWorkers\b/g, '--pipeline-workers')
      .replace(/\bdataDir\b/g, '--data-dir')
      .replace(/\blogLevel\b/g, '--log-level')
      .replace(/\botlpEndpoint\b/g, '--otlp-endpoint')
      .replace(/\btraceSampleRatio\b/g, '--trace-sample-ratio')
      .replace(/\bmodelControlMode\b/g, '--model-control-mode')
      .replace(/\brepositoryPollSecs\b/g, '--repository-poll-secs')
      .replace(/\badminToken\b/g, '--admin-token');
    throw new MpError('MP_INVALID_ARG', `invalid option: ${why}`);
  }
  return r.data;
}
