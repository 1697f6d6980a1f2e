import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MpError } from '../../errors.js';
import { describeIssues } from '../../config/zod-issues.js';
import type { ModelManager } from '../../lifecycle/model-manager.js';
import { MAX_INPUTS_PER_REQUEST, embedTexts, textConfigOf } from '../../embeddings/embed-texts.js';
import { parseJsonBody } from '../json-body.js';
import { ClientHangup } from '../client-abort.js';
import { openaiErrorHandler } from './openai-errors.js';

const TokenArray = z.array(z.int().min(0).max(2 ** 31 - 1)).min(1);

/** `POST /v1/embeddings` as OpenAI documents it; `user` is accepted and ignored. */
const EmbeddingsBody = z.strictObject({
  input: z.union([z.string(), z.array(z.string()), TokenArray, z.array(TokenArray)]),
  model: z.string().min(1).max(256),
  encoding_format: z.enum(['float', 'base64']).default('float'),
  dimensions: z.int().positive().optional(),
  user: z.string().max(1024).optional(),
});

const utf8 = new TextEncoder();

function invalid(message: string, param: string): MpError {
  return Object.assign(new MpError('MP_INVALID_ARG', message), { param });
}

/** The inputs as UTF-8 byte strings or token id lists, in order. */
function inputsOf(input: z.infer<typeof EmbeddingsBody>['input']): Array<Uint8Array | number[]> {
  if (typeof input === 'string') {
    if (input.length === 0) throw invalid("'input' must not be an empty string", 'input');
    return [utf8.encode(input)];
  }
  if (input.length === 0) throw invalid("'input' must not be an empty array", 'input');
  if (input.length > MAX_INPUTS_PER_REQUEST) throw invalid(`'input' has ${input.length} items, at most ${MAX_INPUTS_PER_REQUEST} are allowed`, 'input');
  if (typeof input[0] === 'number') return [input as number[]];
  return (input as Array<string | number[]>).map((item, i) => {
    if (typeof item !== 'string') return item;
    if (item.length === 0) throw invalid(`'input[${i}]' must not be an empty string`, `input[${i}]`);
    return utf8.encode(item);
  });
}

function encodeVector(v: Float32Array, format: 'float' | 'base64'): number[] | string {
  // base64 is the little-endian float32 bytes, as OpenAI sends them (and its client decodes).
  return format === 'base64' ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v);
}

/** OpenAI-compatible routes: `POST /v1/embeddings`, `GET /v1/models[/:model]`, in OpenAI's error shape. */
export function registerOpenAIRoutes(app: FastifyInstance, manager: ModelManager): void {
  const startedSeconds = Math.floor(Date.now() / 1000);
  void app.register(async (scope) => {
    scope.setErrorHandler(openaiErrorHandler);

    scope.post('/v1/embeddings', async (request: FastifyRequest, reply: FastifyReply) => {
      const parsed = EmbeddingsBody.safeParse(parseJsonBody(request.body));
      if (!parsed.success) {
        const first = parsed.error.issues[0]?.path.join('.');
        throw invalid(`invalid embeddings request: ${describeIssues(parsed.error)}`, first || 'body');
      }
      const body = parsed.data;
      const inputs = inputsOf(body.input);
      const ctx = manager.resolve(body.model);
      textConfigOf(ctx);
      const result = await embedTexts(ctx, inputs, { dimensions: body.dimensions, signal: new ClientHangup(reply) });
      void reply.type('application/json');
      return {
        object: 'list',
        data: result.vectors.map((v, index) => ({ object: 'embedding', index, embedding: encodeVector(v, body.encoding_format) })),
        model: ctx.name,
        usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
      };
    });

    const modelObject = (id: string) => ({ id, object: 'model', created: startedSeconds, owned_by: 'modelplane' });
    scope.get('/v1/models', async () => ({
      object: 'list',
      data: [...new Set(manager.readyContexts().map((c) => c.name))].sort().map(modelObject),
    }));
    scope.get('/v1/models/:model', async (request: FastifyRequest<{ Params: { model: string } }>) => modelObject(manager.resolve(request.params.model).name));
  });
}
