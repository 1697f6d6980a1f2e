/**
 * Example: classify a folder of text files, paragraph by paragraph, and store one summary per file.
 *
 *   file ─► paragraphs (fan-out) ─► normalise ─► featurise ─► classify (mlp-classifier) ─► summarise (join) ─► store
 *
 * Each input file is one run. Paragraphs continue separately through the model step and are joined per file;
 * the summary is upserted into `<MP_EXAMPLE_OUT>/results.db` keyed by run id, so a re-delivered run
 * cannot store twice. Later: an `embed` + `index` step pair after `normalise`, once the search capability lands.
 */
import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { definePipeline } from '../../src/pipeline/pipeline-registry.js';
import { UnrecoverableStepError } from '../../src/pipeline/step-errors.js';
import type { JsonTensorMap } from '../../src/pipeline/model-invoker.js';

const FEATURES = 32; // the mlp-classifier's input width

interface Paragraph {
  readonly path: string;
  readonly index: number;
  readonly text: string;
}

async function paragraphs(input: unknown): Promise<Paragraph[]> {
  const path = (input as { path?: unknown } | null)?.path;
  if (typeof path !== 'string') throw new UnrecoverableStepError('run input must be {"path": "<file>"}');
  const text = await readFile(path, 'utf8');
  return text.split(/\n\s*\n/).map((t) => t.trim()).filter(Boolean).map((t, index) => ({ path, index, text: t }));
}

function normalise(p: unknown): string {
  return (p as Paragraph).text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}\s]+/gu, ' ').replace(/\s+/g, ' ').trim();
}

/** Hashed bag of words (FNV-1a into 32 buckets), L2-normalised: the model's FP32 [1, 32] input. */
function featurise(text: unknown): JsonTensorMap {
  const v = new Array<number>(FEATURES).fill(0);
  for (const word of String(text).split(' ')) {
    if (!word) continue;
    let h = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193) >>> 0;
    v[h % FEATURES]! += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return { input: { datatype: 'FP32', shape: [1, FEATURES], data: v.map((x) => x / norm) } };
}

interface Classified {
  readonly probabilities: { readonly data: number[] };
  readonly label: { readonly data: number[] };
}

function summarise(results: unknown): { paragraphs: number; labels: number[]; majorityLabel: number; meanProbabilities: number[] } {
  const rs = results as Classified[];
  const labels = rs.map((r) => r.label.data[0]!);
  const mean = new Array<number>(4).fill(0);
  for (const r of rs) r.probabilities.data.forEach((p, i) => (mean[i]! += p / rs.length));
  const votes = new Map<number, number>();
  for (const l of labels) votes.set(l, (votes.get(l) ?? 0) + 1);
  const majorityLabel = [...votes].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? -1;
  return { paragraphs: rs.length, labels, majorityLabel, meanProbabilities: mean.map((p) => Number(p.toFixed(4))) };
}

let db: Database.Database | null = null;
function results(): Database.Database {
  if (!db) {
    const dir = resolve(process.env.MP_EXAMPLE_OUT ?? '.data/example');
    mkdirSync(dir, { recursive: true });
    db = new Database(join(dir, 'results.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec('CREATE TABLE IF NOT EXISTS results (run_id TEXT PRIMARY KEY, path TEXT NOT NULL, summary TEXT NOT NULL)');
  }
  return db;
}

function store(summary: unknown, ctx: { runId: string; runInput: unknown }): { stored: string; path: string; summary: unknown } {
  const path = (ctx.runInput as { path: string }).path;
  results().prepare('INSERT OR REPLACE INTO results (run_id, path, summary) VALUES (?, ?, ?)').run(ctx.runId, path, JSON.stringify(summary));
  return { stored: ctx.runId, path, summary };
}

export const pipelines = [
  definePipeline('classify-texts', { maxQueued: 1000, leaseMs: 10_000, retry: { maxAttempts: 3, backoffMs: 500 } })
    .step('paragraphs', paragraphs, { fanOut: true })
    .step('normalise', normalise)
    .step('featurise', featurise)
    .model('classify', 'mlp-classifier', { outputs: ['probabilities', 'label'], concurrency: 4, timeoutMs: 10_000 })
    .step('summarise', summarise, { join: true })
    .step('store', store, { retry: { maxAttempts: 3, backoffMs: 50 } })
    .build(),
];
