import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CollectionManager } from '../../../src/search/collection-manager.js';
import { HttpCollectionWriter } from '../../../src/search/http-collection-writer.js';
import { embedStep, indexStep } from '../../../src/search/search-steps.js';
import { UseLiteEmbedder } from '../../../src/search/use-lite-embedder.js';
import { definePipeline, PipelineRegistry } from '../../../src/pipeline/pipeline-registry.js';
import { PipelineService } from '../../../src/pipeline/pipeline-service.js';
import { PipelineWorker } from '../../../src/pipeline/pipeline-worker.js';
import { SqliteQueueBackend } from '../../../src/queue/sqlite/sqlite-queue-backend.js';
import { eventually } from '../../helpers/eventually.js';
import { call, startSearchServer, tempDir } from '../../helpers/search-server.js';

const TEXT = `The council approved the new cycle lane on Main Street.
Residents complained about noise from the night market.
The library will open on Sundays from next month.
A water main burst near the station and flooded the underpass.`;

test('search pipeline: split -> embed -> index fills a collection (in-process and over HTTP)', async (t) => {
  const embedder = new UseLiteEmbedder();
  const collections = new CollectionManager(await tempDir(t), new Map([[embedder.model, embedder]]));
  t.after(() => collections.close());
  collections.create({ name: 'local', model: 'use-lite' });
  const { url } = await startSearchServer(t, { embedders: [embedder] });
  await call(url, 'POST', '/v1/collections', { name: 'remote', model: 'use-lite' });

  const split = (input: unknown): unknown => {
    const { doc, text } = input as { doc: string; text: string };
    return text.split('\n').map((line, i) => ({ id: `${doc}-${i}`, text: line, payload: { doc, line: i } }));
  };
  const pipelines = [
    definePipeline('index-local').step('split', split, { fanOut: true }).step('embed', embedStep(embedder)).step('index', indexStep(collections, 'local')).build(),
    definePipeline('index-remote').step('split', split).step('embed', embedStep(embedder)).step('index', indexStep(new HttpCollectionWriter(url), 'remote')).build(),
  ];
  const backend = new SqliteQueueBackend({ dataDir: await tempDir(t), eventPollMs: 10 });
  const registry = new PipelineRegistry();
  for (const p of pipelines) registry.addBuilt(p);
  const service = new PipelineService({ backend, registry });
  const worker = new PipelineWorker({ backend, registry, concurrency: 2, idlePollMs: 10 });
  worker.start();
  t.after(async () => {
    await worker.stop({ drain: false });
    await backend.close();
  });
  for (const name of ['index-local', 'index-remote']) {
    const { runId } = await service.submit(name, { doc: 'news', text: TEXT });
    const s = await eventually(async () => {
      const st = await service.status(name, runId);
      return ['completed', 'dead'].includes(st.state) ? st : null;
    }, `run of ${name}`);
    assert.equal(s.state, 'completed', JSON.stringify(s));
  }
  assert.equal(collections.info('local').documents, 4);
  const hits = await collections.search('local', { text: 'flooding at the railway station', k: 1 });
  assert.equal(hits[0]!.id, 'news-3');
  const remote = await call(url, 'POST', '/v1/collections/remote/search', { text: 'public library opening hours', k: 1 });
  assert.equal(remote.body.hits[0].id, 'news-2');
  assert.deepEqual(remote.body.hits[0].payload, { doc: 'news', line: 2 });
});
