import type { FastifyInstance } from 'fastify';
import type { EvidenceLinker } from '../../search/evidence/evidence-linker.js';
import { renderEvidenceHtml } from '../../search/evidence/evidence-html.js';
import { jsonScope } from '../json-scope.js';

/**
 *   POST /v1/evidence/link   {source: {segments} | {text}, summary, topK?, threshold?} → per sentence: evidence, score, supported
 *   POST /v1/evidence/view   the same body → the HTML view (text/html)
 */
export function registerEvidenceRoutes(app: FastifyInstance, linker: EvidenceLinker): void {
  void app.register(async (scope) => {
    jsonScope(scope, 'evidence');
    scope.post('/v1/evidence/link', async (req) => linker.link(req.body));
    scope.post('/v1/evidence/view', async (req, reply) => {
      const result = await linker.link(req.body);
      return reply.type('text/html; charset=utf-8').send(renderEvidenceHtml(result));
    });
  });
}
