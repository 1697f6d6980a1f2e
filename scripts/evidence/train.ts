import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FEATURES } from '../../src/search/evidence/evidence-features.js';
import { EvidenceScorer, logistic, SENTENCE_FEATURES, sentenceFeatures, trainLogistic, type ScorerWeights } from '../../src/search/evidence/evidence-scorer.js';
import { UseLiteEmbedder } from '../../src/search/use-lite-embedder.js';
import { extract, loadDevSet, type SentenceRows } from './dev-set.js';
import { calibrateThreshold, evaluate, type Scoring } from './metrics.js';

/**
 * Fits both models on these sentences: the pair model on every candidate (gold candidates of supported
 * sentences are positives), then the sentence model on each sentence's best candidate under the pair model.
 */
export function fit(sentences: readonly SentenceRows[]): Omit<ScorerWeights, 'threshold' | 'trainedOn'> {
  const xs: number[][] = [];
  const ys: number[] = [];
  for (const s of sentences) for (const r of s.rows) {
    xs.push(r.x);
    ys.push(r.gold ? 1 : 0);
  }
  const pair = trainLogistic(FEATURES, xs, ys, { l2: 0.01, epochs: 1500, lr: 0.5, positiveWeight: 3 });
  const sx: number[][] = [];
  const sy: number[] = [];
  for (const s of sentences) {
    const sorted = s.rows.map((r) => ({ x: r.x, p: logistic(pair, r.x) })).sort((a, b) => b.p - a.p);
    if (sorted.length === 0) continue;
    sx.push(sentenceFeatures(sorted[0]!.x, sorted[0]!.p, sorted[1]?.p ?? 0));
    sy.push(s.sentence.gold !== null ? 1 : 0);
  }
  const sentence = trainLogistic(SENTENCE_FEATURES, sx, sy, { l2: 0.02, epochs: 2000, lr: 0.5 });
  return { pair, sentence };
}

export function scoringOf(model: Omit<ScorerWeights, 'threshold' | 'trainedOn'>): Scoring {
  const scorer = new EvidenceScorer({ ...model, threshold: 0.5, trainedOn: '' });
  return { pair: (x) => scorer.pair(x), sentence: (sorted) => scorer.sentence(sorted[0]?.x, sorted.map((c) => c.p)) };
}

async function main(): Promise<void> {
  const set = loadDevSet();
  const sentences = await extract(new UseLiteEmbedder(), set);
  const model = fit(sentences);
  const { sentenceScores } = evaluate(sentences, scoringOf(model));
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
