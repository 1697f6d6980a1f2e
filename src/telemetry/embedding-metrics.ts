import { Counter, Gauge, type Registry } from 'prom-client';
import type { ModelManager } from '../lifecycle/model-manager.js';
import type { ServingContext } from '../lifecycle/serving-context.js';

/**
 * Metrics of text-embedding models, read at scrape time: response cache hits, misses, evictions,
 * size and the compute it saved (hits times the mean compute seconds of one inferred text), and the
 * padded encoders' computed vs padding token positions.
 */
export function registerEmbeddingMetrics(manager: ModelManager, registry: Registry): void {
  const labelNames = ['model', 'version'] as const;
  const textContexts = () => manager.readyContexts().filter((c) => c.admission?.cache || c.admission?.padding);
  const metric = (kind: 'counter' | 'gauge', name: string, help: string, value: (c: ServingContext) => number | undefined) => {
    const Type = kind === 'counter' ? Counter : Gauge;
    new Type({
      name, help, labelNames: [...labelNames], registers: [registry],
      collect(this: Counter | Gauge) {
        this.reset();
        for (const c of textContexts()) {
          const v = value(c);
          if (v === undefined) continue;
          const labels = { model: c.name, version: String(c.version) };
          if (this instanceof Gauge) this.set(labels, v);
          else this.inc(labels, v);
        }
      },
    });
  };
  metric('counter', 'modelplane_embedding_cache_hits_total', 'Texts answered from the embeddings response cache.', (c) => c.admission?.cache?.hits);
  metric('counter', 'modelplane_embedding_cache_misses_total', 'Texts looked up in the embeddings response cache and not found.', (c) => c.admission?.cache?.misses);
  metric('counter', 'modelplane_embedding_cache_evictions_total', 'Entries evicted from the embeddings response cache to stay within max_bytes.', (c) => c.admission?.cache?.evictions);
  metric('gauge', 'modelplane_embedding_cache_bytes', 'Bytes held by the embeddings response cache.', (c) => c.admission?.cache?.bytes);
  metric('counter', 'modelplane_embedding_cache_saved_compute_seconds_total', 'Compute the cache saved: hits times the mean compute seconds per inferred text.', (c) => {
    const cache = c.admission?.cache;
    if (!cache) return undefined;
    const rows = c.statistics.inferenceCount;
    return rows === 0 ? 0 : (cache.hits * c.statistics.computeInfer.ns) / 1e9 / rows;
  });
  metric('counter', 'modelplane_embedding_computed_tokens_total', 'Token positions a padded text encoder computed (real and padding).', (c) => c.admission?.padding?.computedTokens);
  metric('counter', 'modelplane_embedding_padding_tokens_total', 'Token positions a padded text encoder computed for padding only.', (c) => c.admission?.padding?.paddingTokens);
}
