import type Database from 'better-sqlite3';

/**
 * One row per job. `order_key = priority * 2**32 + seq` is the single integer claim orders by, so
 * lower priority values run first and equal priorities run in submission order.
 * States: waiting -> active -> completed | dead | cancelled; a failed attempt goes active -> delayed -> waiting.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS mp_jobs (
  id               TEXT PRIMARY KEY,
  queue            TEXT NOT NULL,
  state            TEXT NOT NULL,
  priority         INTEGER NOT NULL,
  order_key        INTEGER NOT NULL,
  payload          TEXT NOT NULL,
  idempotency_key  TEXT,
  run_at_ms        INTEGER NOT NULL,
  attempts_made    INTEGER NOT NULL DEFAULT 0,
  stalls           INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL,
  backoff_ms       INTEGER NOT NULL,
  max_backoff_ms   INTEGER NOT NULL,
  jitter           REAL NOT NULL,
  token            TEXT,
  lease_until_ms   INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  result           TEXT,
  error            TEXT,
  progress         TEXT,
  created_at_ms    INTEGER NOT NULL,
  finished_at_ms   INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS mp_jobs_idem ON mp_jobs(queue, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS mp_jobs_ready ON mp_jobs(queue, state, order_key);
CREATE INDEX IF NOT EXISTS mp_jobs_due ON mp_jobs(queue, state, run_at_ms);
CREATE INDEX IF NOT EXISTS mp_jobs_lease ON mp_jobs(queue, state, lease_until_ms);
CREATE TABLE IF NOT EXISTS mp_checkpoints (
  job_id TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (job_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mp_events (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  queue  TEXT NOT NULL,
  job_id TEXT NOT NULL,
  type   TEXT NOT NULL,
  data   TEXT
);
CREATE INDEX IF NOT EXISTS mp_events_queue ON mp_events(queue, seq);
CREATE TABLE IF NOT EXISTS mp_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/** WAL lets readers run beside the one writer; busy_timeout makes concurrent processes wait, not fail. */
export function openQueueSchema(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.exec(SCHEMA);
}

export interface JobRow {
  id: string;
  queue: string;
  state: string;
  priority: number;
  order_key: number;
  payload: string;
  idempotency_key: string | null;
  run_at_ms: number;
  attempts_made: number;
  stalls: number;
  max_attempts: number;
  backoff_ms: number;
  max_backoff_ms: number;
  jitter: number;
  token: string | null;
  lease_until_ms: number | null;
  cancel_requested: number;
  result: string | null;
  error: string | null;
  progress: string | null;
  created_at_ms: number;
  finished_at_ms: number | null;
}
