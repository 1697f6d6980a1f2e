import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RolloutSpec } from '../config/rollout-spec.js';
import type { TrafficPolicy } from '../config/traffic-policy.js';

export type RolloutState = 'running' | 'completed' | 'rolled_back' | 'aborted';

export interface RolloutRecord {
  readonly id: number;
  readonly model: string;
  readonly candidate: number;
  readonly incumbent: number;
  readonly spec: RolloutSpec;
  readonly state: RolloutState;
  /** Index into spec.steps; -1 once rolled back or aborted. */
  readonly step: number;
  /** The candidate's share of traffic now, 0-100. */
  readonly percent: number;
  readonly stepStartedMs: number;
  readonly startedMs: number;
  readonly updatedMs: number;
  readonly reason: string | null;
}

export interface RolloutEvent {
  readonly rolloutId: number;
  readonly atMs: number;
  /** started, advanced, completed, rolled_back, aborted, resumed, released */
  readonly kind: string;
  readonly percent: number;
  readonly detail: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS mp_rollouts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  model           TEXT NOT NULL,
  candidate       INTEGER NOT NULL,
  incumbent       INTEGER NOT NULL,
  spec            TEXT NOT NULL,
  state           TEXT NOT NULL,
  step            INTEGER NOT NULL,
  percent         REAL NOT NULL,
  step_started_ms INTEGER NOT NULL,
  started_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL,
  reason          TEXT
);
CREATE INDEX IF NOT EXISTS mp_rollouts_model ON mp_rollouts(model, id);
CREATE TABLE IF NOT EXISTS mp_rollout_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  rollout_id INTEGER NOT NULL,
  at_ms      INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  percent    REAL NOT NULL,
  detail     TEXT
);
CREATE INDEX IF NOT EXISTS mp_rollout_events_rollout ON mp_rollout_events(rollout_id, seq);
CREATE TABLE IF NOT EXISTS mp_traffic_policies (
  model      TEXT PRIMARY KEY,
  policy     TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
`;

interface RolloutRow {
  id: number; model: string; candidate: number; incumbent: number; spec: string; state: RolloutState;
  step: number; percent: number; step_started_ms: number; started_ms: number; updated_ms: number; reason: string | null;
}

/**
 * Rollout state, its event history and admin traffic policies in one embedded SQLite file
 * (`<dataDir>/control.db`), so a restart resumes where it stopped. Each write is one statement
 * or one transaction.
 */
export class RolloutStore {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    if (dataDir !== ':memory:') mkdirSync(dataDir, { recursive: true });
    const file = dataDir === ':memory:' ? ':memory:' : join(dataDir, 'control.db');
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
  }

  /** Inserts a new running rollout and its `started` event in one transaction. */
  create(r: Omit<RolloutRecord, 'id'>): RolloutRecord {
    const run = this.db.transaction(() => {
      const info = this.db
        .prepare(`INSERT INTO mp_rollouts (model, candidate, incumbent, spec, state, step, percent, step_started_ms, started_ms, updated_ms, reason)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(r.model, r.candidate, r.incumbent, JSON.stringify(r.spec), r.state, r.step, r.percent, r.stepStartedMs, r.startedMs, r.updatedMs, r.reason);
      const id = Number(info.lastInsertRowid);
      this.insertEvent({ rolloutId: id, atMs: r.startedMs, kind: 'started', percent: r.percent, detail: null });
      return { ...r, id };
    });
    return run();
  }

  /** Writes a rollout's new state and the event that caused it, atomically. */
  update(r: RolloutRecord, event: Omit<RolloutEvent, 'rolloutId'>): void {
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE mp_rollouts SET state = ?, step = ?, percent = ?, step_started_ms = ?, updated_ms = ?, reason = ? WHERE id = ?')
        .run(r.state, r.step, r.percent, r.stepStartedMs, r.updatedMs, r.reason, r.id);
      this.insertEvent({ ...event, rolloutId: r.id });
    })();
  }

  /** Every rollout of a model, newest first. */
  history(model: string): RolloutRecord[] {
    return (this.db.prepare('SELECT * FROM mp_rollouts WHERE model = ? ORDER BY id DESC').all(model) as RolloutRow[]).map(fromRow);
  }

  /** The newest rollout of each model (the one whose weights apply). */
  latestPerModel(): RolloutRecord[] {
    const rows = this.db.prepare('SELECT * FROM mp_rollouts WHERE id IN (SELECT MAX(id) FROM mp_rollouts GROUP BY model)').all() as RolloutRow[];
    return rows.map(fromRow);
  }

  events(rolloutId: number): RolloutEvent[] {
    const rows = this.db.prepare('SELECT rollout_id, at_ms, kind, percent, detail FROM mp_rollout_events WHERE rollout_id = ? ORDER BY seq').all(rolloutId) as {
      rollout_id: number; at_ms: number; kind: string; percent: number; detail: string | null;
    }[];
    return rows.map((e) => ({ rolloutId: e.rollout_id, atMs: e.at_ms, kind: e.kind, percent: e.percent, detail: e.detail }));
  }

  savePolicy(model: string, policy: TrafficPolicy | undefined): void {
    if (policy) this.db.prepare('INSERT OR REPLACE INTO mp_traffic_policies (model, policy, updated_ms) VALUES (?, ?, ?)').run(model, JSON.stringify(policy), Date.now());
    else this.db.prepare('DELETE FROM mp_traffic_policies WHERE model = ?').run(model);
  }

  /** Saved admin policies as stored (the caller validates them again). */
  policies(): { model: string; policy: unknown }[] {
    const rows = this.db.prepare('SELECT model, policy FROM mp_traffic_policies').all() as { model: string; policy: string }[];
    return rows.map((r) => ({ model: r.model, policy: JSON.parse(r.policy) as unknown }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private insertEvent(e: RolloutEvent): void {
    this.db.prepare('INSERT INTO mp_rollout_events (rollout_id, at_ms, kind, percent, detail) VALUES (?, ?, ?, ?, ?)').run(e.rolloutId, e.atMs, e.kind, e.percent, e.detail);
  }
}

function fromRow(r: RolloutRow): RolloutRecord {
  return {
    id: r.id, model: r.model, candidate: r.candidate, incumbent: r.incumbent, spec: JSON.parse(r.spec) as RolloutSpec, state: r.state,
    step: r.step, percent: r.percent, stepStartedMs: r.step_started_ms, startedMs: r.started_ms, updatedMs: r.updated_ms, reason: r.reason,
  };
}
