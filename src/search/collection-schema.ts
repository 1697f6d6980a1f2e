import { z } from 'zod';
import { MpError } from '../errors.js';
import { describeIssues } from '../config/zod-issues.js';
import { FilterSchema } from './payload-filter.js';

export const COLLECTION_NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ - (max 64), not starting with a symbol');
const DOC_ID = z.string().min(1).max(512);
export const METRICS = ['cosine', 'l2', 'ip'] as const;
export type Metric = (typeof METRICS)[number];

/** `POST /v1/collections`: either an embedding model (text allowed, dimension from the model) or a bare dimension. */
export const CreateCollectionSchema = z
  .strictObject({
    name: COLLECTION_NAME,
    /** Embedding model for text documents and text queries; its dimension is used. */
    model: z.string().min(1).optional(),
    dimension: z.int().min(1).max(4096).optional(),
    metric: z.enum(METRICS).default('cosine'),
    /** HNSW graph degree and build/search breadth; defaults measured in bench/search. */
    hnsw: z.strictObject({
      m: z.int().min(4).max(64).default(16),
      efConstruction: z.int().min(8).max(1000).default(128),
      efSearch: z.int().min(8).max(2000).default(64),
    }).prefault({}),
  })
  .refine((c) => c.model !== undefined || c.dimension !== undefined, { message: "needs 'model' or 'dimension'" });
export type CreateCollection = z.output<typeof CreateCollectionSchema>;

const JsonObject = z.record(z.string(), z.unknown());

/** One document of an upsert: `text` (embedded server-side), `vector`, or both. */
export const DocumentSchema = z
  .strictObject({
    id: DOC_ID,
    text: z.string().max(1_000_000).optional(),
    vector: z.array(z.number()).optional(),
    payload: JsonObject.optional(),
  })
  .refine((d) => d.text !== undefined || d.vector !== undefined, { message: "a document needs 'text' or 'vector'" });
export type DocumentInput = z.output<typeof DocumentSchema>;

export const UpsertSchema = z.strictObject({ documents: z.array(DocumentSchema).min(1).max(10_000) });
export const DeleteSchema = z.strictObject({ ids: z.array(DOC_ID).min(1).max(10_000) });

export const SearchSchema = z
  .strictObject({
    text: z.string().min(1).max(100_000).optional(),
    vector: z.array(z.number()).optional(),
    k: z.int().min(1).max(1000).default(10),
    filter: FilterSchema.optional(),
    /** `vector` (default with a vector or without text index), `text` (BM25 only) or `hybrid`. */
    mode: z.enum(['vector', 'text', 'hybrid']).optional(),
    /** Reciprocal rank fusion weights and constant (hybrid only). */
    weights: z.strictObject({ vector: z.number().min(0).default(1), text: z.number().min(0).default(1) }).prefault({}),
    rrfK: z.number().min(0).max(10_000).default(60),
    /** Per-request HNSW breadth; higher = better recall, slower. */
    efSearch: z.int().min(1).max(5000).optional(),
    withPayload: z.boolean().default(true),
    withText: z.boolean().default(false),
  })
  .refine((s) => s.text !== undefined || s.vector !== undefined, { message: "a search needs 'text' or 'vector'" });
export type SearchRequest = z.output<typeof SearchSchema>;
export type SearchInput = z.input<typeof SearchSchema>;

/** Parses an external input with `schema`, naming the field at fault in an MP_INVALID_ARG. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new MpError('MP_INVALID_ARG', `${what}: ${describeIssues(r.error)}`);
  return r.data;
}
