import { z } from 'zod';
import { UnrecoverableStepError } from '../pipeline/step-errors.js';
import type { StepFunction } from '../pipeline/pipeline-registry.js';
import { describeIssues } from '../config/zod-issues.js';
import type { DocumentInput } from './collection-schema.js';
import type { TextEmbedder } from './text-embedder.js';

/** Where an `index` step writes: a CollectionManager in this process, or a server over HTTP. */
export interface CollectionWriter {
  upsert(collection: string, body: { documents: DocumentInput[] }): Promise<{ upserted: number }>;
}

const StepDocument = z.looseObject({
  id: z.string().min(1),
  text: z.string().optional(),
  vector: z.array(z.number()).optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
});
/** A step takes one document, an array of them, or `{documents: [...]}` (what a join or a loader returns). */
const StepInput = z.union([StepDocument, z.array(StepDocument), z.strictObject({ documents: z.array(StepDocument) })]);
type StepDoc = z.output<typeof StepDocument>;

function documentsOf(step: string, input: unknown): StepDoc[] {
  const r = StepInput.safeParse(input);
  // A malformed document will not improve on retry.
  if (!r.success) throw new UnrecoverableStepError(`step '${step}': expected a document {id, text?, vector?, payload?}, an array of them or {documents}: ${describeIssues(r.error)}`);
  const v = r.data;
  return Array.isArray(v) ? v : 'documents' in v && Array.isArray(v.documents) ? v.documents : [v as StepDoc];
}

/**
 * Pipeline step `embed`: adds `vector` to every document that has `text` and no vector, in one embedder call
 * (the embedder batches). Output: `{documents}` with vectors, JSON so the run records it.
 */
export function embedStep(embedder: TextEmbedder): StepFunction {
  return async (input, ctx) => {
    const docs = documentsOf(ctx.step, input);
    const todo = docs.filter((d) => d.vector === undefined && d.text !== undefined);
    const vectors = await embedder.embed(todo.map((d) => d.text!));
    const byDoc = new Map(todo.map((d, i) => [d, Array.from(vectors[i]!)]));
    return { documents: docs.map((d) => (byDoc.has(d) ? { ...d, vector: byDoc.get(d)! } : d)) };
  };
}

/**
 * Pipeline step `index`: upserts the documents into a collection. Upserts by id are idempotent, so a
 * re-delivered run writes the same state again rather than duplicating documents.
 */
export function indexStep(writer: CollectionWriter, collection: string): StepFunction {
  return async (input, ctx) => {
    const docs = documentsOf(ctx.step, input);
    if (docs.length === 0) return { upserted: 0 };
    const documents = docs.map((d): DocumentInput => ({
      id: d.id,
      ...(d.text !== undefined ? { text: d.text } : {}),
      ...(d.vector !== undefined ? { vector: d.vector } : {}),
      ...(d.payload !== undefined ? { payload: d.payload } : {}),
    }));
    return writer.upsert(collection, { documents });
  };
}
