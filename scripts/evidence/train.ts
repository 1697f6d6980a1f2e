import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EvidenceScorer, trainLogistic, type ScorerWeights } from '../../src/search/evidence/evidence-scorer.js';
import { UseLiteEmbedder } from '../../src/search/use-lite-embedder.js';
import { extract, loadDevSet, type SentenceRows } from './dev-set.js';
import { calibrateThreshold, evaluate } from './metrics.js';

/** Pair rows for training: every candidate of every sentence; gold candidates of supported sentences are positives. */
export function trainingRows(sentences: readonly SentenceRows[]): { xs: number[][]; ys: number[] } {
  const xs: number[][] = [];
  const ys: number[] = [];
  for (const s of sentences) for (const r of s.rows) {
    xs.push(r.x);
    ys.push(r.gold ? 1 : 0);
  }
  return { xs, ys };
}

export function fit(sentences: readonly SentenceRows[]): Omit<ScorerWeights, 'threshold' | 'trainedOn'> {
  const { xs, ys } = trainingRows(sentences);
  return trainLogistic(xs, ys, { l2: 0.01, epochs: 1500, lr: 0.5, positiveWeight: 3 });
}

async function main(): Promise<void> {
  const set = loadDevSet();
  const sentences = await extract(new UseLiteEmbedder(), set);
  const model = fit(sentences);
  const probe = new EvidenceScorer({ ...model, threshold: 0.5, trainedOn: '' });
  const { sentenceScores } = evaluate(sentences, (x) => probe.score(x));
  const weights: ScorerWeights = {
    ...model,
    threshold: Number(calibrateThreshold(sentenceScores).toFixed(4)),
    trainedOn: `data/evidence-dev: ${set.length} conversations, ${sentences.length} summary sentences (npm run train:evidence)`,
  };
  const out = fileURLToPath(new URL('../../src/search/evidence/evidence-weights.json', import.meta.url));
  writeFileSync(out, `${JSON.stringify(weights, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(6)) : v), 2)}\n`);
  console.log(`wrote ${out}: threshold ${weights.threshold}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
