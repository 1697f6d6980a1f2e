import type { FastifyInstance } from 'fastify';
import { CollectionManager } from '../../search/collection-manager.js';
import type { TextEmbedder } from '../../search/text-embedder.js';
import { UseLiteEmbedder } from '../../search/use-lite-embedder.js';
import { EvidenceLinker } from '../../search/evidence/evidence-linker.js';
import { registerCollectionRoutes } from './collection-routes.js';
import { registerEvidenceRoutes } from './evidence-routes.js';

export interface SearchOptions {
  /** Collections live in `<dataDir>/collections`, snapshots in `<dataDir>/snapshots`. */
  readonly dataDir: string;
  /** Embedding models by name; default: USE-lite in-process as `use-lite` (loaded on first use). */
  readonly embedders?: readonly TextEmbedder[];
}

export interface SearchSurface {
  readonly collections: CollectionManager;
  /** Closes the collections, then the embedders this surface created itself (the default USE-lite threads). */
  close(): Promise<void>;
}

/** Opens every collection of the data directory and serves them under /v1/collections; evidence linking under /v1/evidence. */
export function registerSearch(app: FastifyInstance, options: SearchOptions): SearchSurface {
  const owned = options.embedders ? undefined : new UseLiteEmbedder();
  const embedders = options.embedders ?? [owned!];
  const collections = new CollectionManager(options.dataDir, new Map(embedders.map((e) => [e.model, e])));
  registerCollectionRoutes(app, collections);
  const evidenceEmbedder = embedders[0];
  if (evidenceEmbedder) registerEvidenceRoutes(app, new EvidenceLinker(evidenceEmbedder));
  return {
    collections,
    close: async () => {
      collections.close();
      await owned?.close();
    },
  };
}
