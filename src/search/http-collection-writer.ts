import { MpError, type ErrorCode } from '../errors.js';
import type { DocumentInput } from './collection-schema.js';
import type { CollectionWriter } from './search-steps.js';

/** An `index` step target on a Modelplane server (`POST /v1/collections/:name/documents`), for workers in other processes. */
export class HttpCollectionWriter implements CollectionWriter {
  constructor(readonly baseUrl: string) {}

  async upsert(collection: string, body: { documents: DocumentInput[] }): Promise<{ upserted: number }> {
    const res = await fetch(new URL(`/v1/collections/${encodeURIComponent(collection)}/documents`, this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const parsed = (await res.json().catch(() => null)) as { upserted?: number; error?: string } | null;
    if (!res.ok) {
      const code: ErrorCode = res.status === 404 ? 'MP_NOT_FOUND' : res.status < 500 ? 'MP_INVALID_ARG' : 'MP_BACKEND';
      throw new MpError(code, `collection '${collection}' upsert: ${parsed?.error ?? `HTTP ${res.status}`}`);
    }
    return { upserted: parsed?.upserted ?? 0 };
  }
}
