import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MpError } from '../../errors.js';
import { describeIssues } from '../../config/zod-issues.js';
import type { ModelManager } from '../../lifecycle/model-manager.js';
import type { ServingContext } from '../../lifecycle/serving-context.js';
import { parseInferRequest } from './infer-request-parser.js';
import { writeInferResponse } from './infer-response-writer.js';
import type { TrafficRouter } from '../../routing/traffic-router.js';
import type { ResponseParameters } from '../../routing/compiled-route.js';
import type { TensorMap } from '../../tensor/tensor.js';
import { routingKey } from './routing-key.js';
import { ClientHangup } from '../client-abort.js';

export interface V2Options {
  readonly serverName: string;
  readonly serverVersion: string;
  readonly bodyLimitBytes: number;
  /** False while starting up or shutting down. */
  readonly isReady: () => boolean;
  /** Traffic policies for requests that name no version; absent = always the highest READY version. */
  readonly router?: TrafficRouter | undefined;
}

type ModelParams = { model: string; version?: string };

const EXTENSIONS = ['binary_tensor_data', 'classification', 'statistics', 'model_repository'];

/** The Open Inference Protocol (KServe v2) REST surface. */
export function registerV2Routes(app: FastifyInstance, manager: ModelManager, options: V2Options): void {
  app.get('/v2/health/live', async () => ({ live: true }));

  app.get('/v2/health/ready', async () => {
    if (!options.isReady()) throw new MpError('MP_MODEL_NOT_READY', 'the server is not ready');
    return { ready: true };
  });

  app.get('/v2', async () => ({ name: options.serverName, version: options.serverVersion, extensions: EXTENSIONS }));

  const metadata = async (request: FastifyRequest<{ Params: ModelParams }>) => {
    const { model, version } = request.params;
    return modelMetadata(manager, manager.resolve(model, version));
  };
  app.get('/v2/models/:model', metadata);
  app.get('/v2/models/:model/versions/:version', metadata);

  const ready = async (request: FastifyRequest<{ Params: ModelParams }>) => {
    const ctx = manager.resolve(request.params.model, request.params.version);
    return { name: ctx.name, version: String(ctx.version), ready: true };
  };
  app.get('/v2/models/:model/ready', ready);
  app.get('/v2/models/:model/versions/:version/ready', ready);

  const config = async (request: FastifyRequest<{ Params: ModelParams }>) =>
    manager.resolve(request.params.model, request.params.version).config;
  app.get('/v2/models/:model/config', config);
  app.get('/v2/models/:model/versions/:version/config', config);

  // Triton's statistics extension.
  app.get('/v2/models/stats', async () => ({
    model_stats: manager.readyContexts().map((c) => c.statistics.toJSON(c.name, c.version)),
  }));
  const stats = async (request: FastifyRequest<{ Params: ModelParams }>) => {
    const ctx = manager.resolve(request.params.model, request.params.version);
    const contexts = request.params.version ? [ctx] : manager.readyContexts().filter((c) => c.name === ctx.name);
    return { model_stats: contexts.map((c) => c.statistics.toJSON(c.name, c.version)) };
  };
  app.get('/v2/models/:model/stats', stats);
  app.get('/v2/models/:model/versions/:version/stats', stats);

  const infer = (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) =>
    handleInfer(manager, options, request, reply);
  // Under overload most requests are refused: decide that from the headers, before the body is read.
  const admit = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    if (options.router?.route(request.params.model, request.params.version)) return;
    let ctx: ServingContext;
    try {
      ctx = manager.resolve(request.params.model, request.params.version);
    } catch {
      return; // the handler answers unknown and unready models, after reading the body as always
    }
    request.inference = { model: ctx.name, version: ctx.version, timing: { queueUs: 0, computeUs: 0, batchRows: 0 } };
    ctx.admitBeforeBody(reply.elapsedTime * 1000);
  };
  app.post('/v2/models/:model/infer', { onRequest: admit }, infer);
  app.post('/v2/models/:model/versions/:version/infer', { onRequest: admit }, infer);

  // Triton's repository index: every model and version with its state, and why it is unavailable.
  app.post('/v2/repository/index', async (request) => {
    const body = Buffer.isBuffer(request.body) && request.body.byteLength > 0 ? parseJson(request.body) : {};
    const parsed = RepositoryIndexRequest.safeParse(body);
    if (!parsed.success) throw new MpError('MP_INVALID_ARG', `invalid repository index request: ${describeIssues(parsed.error)}`);
    const onlyReady = parsed.data.ready === true;
    return manager.statuses().filter((s) => !onlyReady || s.state === 'READY').map((s) => ({
      name: s.model,
      version: s.version > 0 ? String(s.version) : '',
      state: s.state,
      reason: s.reason ?? '',
    }));
  });
}

const RepositoryIndexRequest = z.object({ ready: z.boolean().optional() });

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new MpError('MP_INVALID_ARG', `request body is not valid JSON: ${(err as Error).message}`);
  }
}

function modelMetadata(manager: ModelManager, ctx: ServingContext): object {
  const batched = ctx.config.max_batch_size > 0;
  const shape = (dims: readonly number[]) => (batched ? [-1, ...dims] : [...dims]);
  return {
    name: ctx.name,
    versions: manager.versionsOf(ctx.name).filter((v) => v.state === 'READY').map((v) => String(v.version)),
    platform: ctx.platform,
    inputs: ctx.config.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: shape(i.dims) })),
    outputs: ctx.config.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: shape(o.dims) })),
    // Pre/post-processing that runs as part of the model (e.g. the tokenizer of a text-embedding model).
    ...(ctx.config.text_embedding ? { parameters: { text_embedding: textProcessing(ctx.config.text_embedding) } } : {}),
    ...(ctx.config.image ? { parameters: { image: imageProcessing(ctx.config.image) } } : {}),
  };
}

/** Text models: request parameter `truncate` (boolean) overrides the model's truncation policy. */
function truncateParameter(parameters: Record<string, boolean | number | string> | undefined): boolean | undefined {
  const value = parameters?.truncate;
  if (value === undefined || typeof value === 'boolean') return value;
  throw new MpError('MP_INVALID_ARG', `parameter 'truncate' must be a boolean, got ${JSON.stringify(value)}`);
}

function imageProcessing(i: NonNullable<ServingContext['config']['image']>): object {
  return { width: i.width, height: i.height, resize: i.resize, kernel: i.kernel, scale: i.scale, offset: i.offset, labels: i.labels?.classes };
}

function textProcessing(t: NonNullable<ServingContext['config']['text_embedding']>): object {
  return {
    tokenizer: t.tokenizer.type, pooling: t.pooling, normalize: t.normalize, max_tokens: t.max_tokens,
    truncation: t.truncation, dimensions: t.dimensions, response_cache: t.response_cache.enable,
  };
}

async function handleInfer(manager: ModelManager, options: V2Options, request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply): Promise<void> {
  const route = options.router?.route(request.params.model, request.params.version);
  let ctx = route ? undefined : manager.resolve(request.params.model, request.params.version);
  const timing = { queueUs: 0, computeUs: 0, batchRows: 0 };
  if (ctx) request.inference = { model: ctx.name, version: ctx.version, timing };
  let parsed: ReturnType<typeof parseInferRequest>;
  try {
    const body = request.body;
    if (!Buffer.isBuffer(body)) throw new MpError('MP_INVALID_ARG', 'the request has no body');
    const headerLength = request.headers['inference-header-content-length'];
    parsed = parseInferRequest(
      body,
      Array.isArray(headerLength) ? headerLength[0] : headerLength,
      request.headers['content-encoding'],
      options.bodyLimitBytes,
    );
  } catch (err) {
    // Counted against the version it was meant for (unknown models are not: their names would be
    // unbounded labels; a routed request has no version yet).
    ctx?.statistics.requestFailed(0, err instanceof MpError ? err.code : 'MP_INVALID_ARG');
    throw err;
  }
  const inferOptions = {
    outputs: parsed.outputs?.map((o) => o.name),
    priority: parsed.priority,
    timeoutUs: parsed.timeoutUs,
    // A client that hangs up while its request is queued should not cost an inference.
    signal: new ClientHangup(reply),
    trace: request.traceParent ?? undefined,
    timing,
    elapsedUs: reply.elapsedTime * 1000,
    truncate: truncateParameter(parsed.parameters),
  };
  let outputs: TensorMap;
  let responseParameters: ResponseParameters | undefined;
  if (route) {
    const answer = await route.infer(parsed.inputs, inferOptions, routingKey(request.headers, parsed.parameters));
    ({ context: ctx, outputs, parameters: responseParameters } = answer);
    request.inference = { model: answer.context.name, version: answer.context.version, timing };
  } else {
    outputs = await ctx!.infer(parsed.inputs, inferOptions);
  }
  ctx = ctx!;
  const response = writeInferResponse(ctx.name, ctx.version, parsed, outputs, ctx.config.outputs.map((o) => o.name), ctx.config.max_batch_size > 0, responseParameters);
  if (response.headerLength !== undefined) {
    void reply.header('Inference-Header-Content-Length', String(response.headerLength)).type('application/octet-stream');
  } else {
    void reply.type('application/json');
  }
  await reply.send(response.body);
}
