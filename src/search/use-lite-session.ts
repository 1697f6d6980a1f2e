/**
 * USE-lite on onnxruntime in the current thread: the package's tokenizer vocabulary, the ONNX graph
 * rebuilt from the package's weights (use-lite-graph.ts) and one inference session. UseLiteEmbedder
 * runs one of these per worker thread (use-lite-worker.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { UseTokenizer, UseVocabulary } from '../embeddings/use-tokenizer.js';
import { MpError } from '../errors.js';
import { USE_DIMENSION, USE_MAX_TOKENS, USE_OUTPUT, buildUseLiteOnnx, useLiteDir, type UseInput } from './use-lite-graph.js';

export interface UseLiteLoadTiming {
  /** Reading the package's weights and encoding the ONNX graph. */
  readonly buildMs: number;
  /** onnxruntime parsing and optimising it. */
  readonly sessionMs: number;
}

export class UseLiteSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: UseTokenizer,
    readonly timing: UseLiteLoadTiming,
  ) {}

  /**
   * `intraOpThreads`: onnxruntime's threads for one call (1: the calling thread only). The ONNX bytes
   * are built in memory on every load rather than cached on disk: it takes ~60 ms (measured), needs no
   * data dir, and can never go stale against the installed package.
   */
  static async load(intraOpThreads = 1): Promise<UseLiteSession> {
    const dir = useLiteDir();
    let t = performance.now();
    const [bytes, vocabulary] = await Promise.all([buildUseLiteOnnx(dir), readVocabulary(dir)]);
    const buildMs = performance.now() - t;
    t = performance.now();
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: intraOpThreads,
        interOpNumThreads: 1,
        // Every call has other shapes, so a memory pattern planned for one is rarely reused; without them
        // RSS stays ~30 MB lower at the same speed (measured). The arena (default) stays: it reuses buffers.
        enableMemPattern: false,
      });
    } catch (err) {
      throw new MpError('MP_BACKEND', `use-lite: onnxruntime could not load the rebuilt graph: ${(err as Error).message}`, { cause: err });
    }
    const tokenizer = new UseTokenizer(vocabulary);
    return new UseLiteSession(session, tokenizer, { buildMs, sessionMs: performance.now() - t });
  }

  /** The ids the model sees for `text`: the package's tokenization, clipped to the model's 128 positions. */
  tokenize(text: string): number[] {
    // Empty text tokenises to nothing, which the TF.js graph cannot embed; a space embeds as "no content".
    return this.tokenizer.encode(text.trim() === '' ? ' ' : text).slice(0, USE_MAX_TOKENS);
  }

  /** One model call: `texts.length` vectors of 512 floats, flat and in order (unit length, as the model returns them). */
  async embed(texts: readonly string[]): Promise<Float32Array> {
    if (texts.length === 0) return new Float32Array(0);
    const rows = texts.map((t) => this.tokenize(t));
    const count = rows.reduce((n, r) => n + r.length, 0);
    const seq = Math.max(1, ...rows.map((r) => r.length));
    // Packed tokens plus the maps between them and the padded [batch, seq] layout (see USE_INPUTS).
    const ids = new BigInt64Array(count);
    const positions = new BigInt64Array(count);
    const tokenSlots = new BigInt64Array(count);
    const slots = new BigInt64Array(rows.length * seq);
    const mask = new Float32Array(rows.length * seq);
    let k = 0;
    rows.forEach((row, b) => row.forEach((id, p) => {
      ids[k] = BigInt(id);
      positions[k] = BigInt(p);
      tokenSlots[k] = BigInt(b * seq + p);
      slots[b * seq + p] = BigInt(k);
      mask[b * seq + p] = 1;
      k++;
    }));
    const feeds: Record<UseInput, ort.Tensor> = {
      ids: new ort.Tensor('int64', ids, [count]),
      positions: new ort.Tensor('int64', positions, [count]),
      slots: new ort.Tensor('int64', slots, [rows.length, seq]),
      token_slots: new ort.Tensor('int64', tokenSlots, [count]),
      mask: new ort.Tensor('float32', mask, [rows.length, seq]),
    };
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds);
    } catch (err) {
      throw new MpError('MP_BACKEND', `use-lite: onnxruntime failed on ${rows.length} texts: ${(err as Error).message}`, { cause: err });
    }
    const data = out[USE_OUTPUT]?.data;
    if (!(data instanceof Float32Array) || data.length !== rows.length * USE_DIMENSION) {
      throw new MpError('MP_BACKEND', `use-lite: onnxruntime returned no ${rows.length}×${USE_DIMENSION} '${USE_OUTPUT}'`);
    }
    return data;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

async function readVocabulary(dir: string): Promise<Array<[string, number]>> {
  const file = join(dir, 'vocab.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new MpError('MP_BACKEND', `use-lite: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const vocabulary = UseVocabulary.safeParse(json);
  if (!vocabulary.success) throw new MpError('MP_BACKEND', `use-lite: ${file} is not a list of [piece, score]`);
  return vocabulary.data;
}
