import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteQueueBackend } from '../../src/queue/sqlite/sqlite-queue-backend.js';
import { runQueueConformance } from './queue-backend.case.js';

runQueueConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-queue-'));
  const backend = new SqliteQueueBackend({ dataDir: dir, eventPollMs: 10 });
  return {
    backend,
    async cleanup() {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
