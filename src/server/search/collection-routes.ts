import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CollectionManager } from '../../search/collection-manager.js';
import { jsonScope } from '../json-scope.js';

type Params = { name: string; id: string; snapshot: string };
type Req = FastifyRequest<{ Params: Params }>;

/**
 * Vector collections over HTTP. Bodies are validated by the manager (zod); errors are `{"error": "..."}`:
 *
 *   POST   /v1/collections                              create {name, model | dimension, metric?, hnsw?} → 201
 *   GET    /v1/collections                              list
 *   GET    /v1/collections/:name                        info (+ document count)
 *   DELETE /v1/collections/:name                        drop
 *   POST   /v1/collections/:name/documents              upsert {documents: [{id, text?, vector?, payload?}]}
 *   POST   /v1/collections/:name/documents/delete       delete {ids}
 *   GET    /v1/collections/:name/documents/:id          get
 *   DELETE /v1/collections/:name/documents/:id          delete one
 *   POST   /v1/collections/:name/search                 {text? | vector?, k, filter, mode, weights, rrfK, efSearch}
 *   POST   /v1/collections/:name/snapshots              take a snapshot → 201
 *   GET    /v1/collections/:name/snapshots              list snapshots
 *   POST   /v1/collections/:name/snapshots/:snapshot/restore   replace the collection with a snapshot
 *
 * An upsert is answered only after its SQLite transaction committed: a 200 survives kill -9.
 */
export function registerCollectionRoutes(app: FastifyInstance, collections: CollectionManager): void {
  void app.register(async (scope) => {
    jsonScope(scope, 'collections');
    scope.post('/v1/collections', async (req, reply) => reply.code(201).send(collections.create(req.body)));
    scope.get('/v1/collections', async () => ({ collections: collections.list() }));
    scope.get('/v1/collections/:name', async (req: Req) => collections.info(req.params.name));
    scope.delete('/v1/collections/:name', async (req: Req) => {
      collections.drop(req.params.name);
      return { deleted: req.params.name };
    });
    scope.post('/v1/collections/:name/documents', async (req: Req) => collections.upsert(req.params.name, req.body));
    scope.post('/v1/collections/:name/documents/delete', async (req: Req) => collections.deleteDocuments(req.params.name, req.body));
    scope.get('/v1/collections/:name/documents/:id', async (req: Req) => collections.get(req.params.name, req.params.id));
    scope.delete('/v1/collections/:name/documents/:id', async (req: Req) => collections.deleteDocuments(req.params.name, { ids: [req.params.id] }));
    scope.post('/v1/collections/:name/search', async (req: Req) => ({ hits: await collections.search(req.params.name, req.body ?? {}) }));
    scope.post('/v1/collections/:name/snapshots', async (req: Req, reply) => reply.code(201).send(collections.snapshot(req.params.name)));
    scope.get('/v1/collections/:name/snapshots', async (req: Req) => ({ snapshots: collections.snapshots(req.params.name) }));
    scope.post('/v1/collections/:name/snapshots/:snapshot/restore', async (req: Req) => collections.restore(req.params.name, req.params.snapshot));
  });
}
