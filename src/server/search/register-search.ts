import type { FastifyInstance } from 'fastify';
import { CollectionManager } from '../../search/collection-manager.js';
import type { TextEmbedder } from '../../search/text-embedder.js';
import { EvidenceLinker } from '../../search/evidence/evidence-linker.js';
import { registerCollectionRoutes } from './collection-routes.js';
import { registerEvidenceRoutes } from './evidence-routes.js';

export interface SearchOptions {
  /** Collections live in `<dataDir>/collections`, snapshots in `<dataDir>/snapshots`. */
  readonly dataDir: string;
  /**
   * Embedding models by name; default (startApp): the served text-embedding models, then USE-lite in-process as `use-lite`.
   * Evidence linking uses `use-lite` if present, else the first.
   */
  readonly embedders?: readonly TextEmbedder[];
}

export interface SearchSurface {
  readonly collections: CollectionManager;
  close(): void;
}

/**
 * Opens every collection of the data directory and serves them under /v1/collections; evidence linking
 * under /v1/evidence. The embedders belong to the caller, who closes them after this surface.
 */
export function registerSearch(app: FastifyInstance, options: SearchOptions & { readonly embedders: readonly TextEmbedder[] }): SearchSurface {
  const embedders = options.embedders;
  const collections = new CollectionManager(options.dataDir, new Map(embedders.map((e) => [e.model, e])));
  registerCollectionRoutes(app, collections);
  // The evidence scorer is calibrated on USE-lite similarities (scripts/evidence/train.ts), so links use
  // USE-lite in-process whenever it is there, not whichever text model is served first.
  const evidenceEmbedder = embedders.find((e) => e.model === 'use-lite') ?? embedders[0];
  if (evidenceEmbedder) registerEvidenceRoutes(app, new EvidenceLinker(evidenceEmbedder));
  return { collections, close: () => collections.close() };
}
