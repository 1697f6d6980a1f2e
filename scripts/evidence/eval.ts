import { FEATURES } from '../../src/search/evidence/evidence-features.js';
import { EvidenceScorer } from '../../src/search/evidence/evidence-scorer.js';
import { UseLiteEmbedder } from '../../src/search/use-lite-embedder.js';
import { extract, loadDevSet, type SentenceRows } from './dev-set.js';
import { auroc, byPair, evaluate, type Metrics, type Scoring, type SentenceScore } from './metrics.js';
import { fit, scoringOf } from './train.js';

/**
 * `npm run eval:evidence`: success@1, success@3 and MRR of gold evidence over supported summary sentences, and
 * AUROC of supported-vs-unsupported detection, on data/evidence-dev. Reports the shipped scorer (trained on
 * all of it: optimistic), the scorer cross-validated by conversation (4 folds: the honest figure), and
 * ablations that show what each method adds.
 */
const FOLDS = 4;
const col = (name: (typeof FEATURES)[number]): number => FEATURES.indexOf(name);

function crossValidated(sentences: readonly SentenceRows[], transform: (x: number[]) => number[] = (x) => x, keep: (x: number[]) => boolean = () => true): Metrics & { sentenceScores: SentenceScore[] } {
  const convs = [...new Set(sentences.map((s) => s.conversation))];
  const view = sentences.map((s) => ({ ...s, rows: s.rows.filter((r) => keep(r.x)).map((r) => ({ ...r, x: transform(r.x) })) }));
  const scores = new Map<SentenceRows, Scoring>();
  for (let f = 0; f < FOLDS; f++) {
    const test = new Set(convs.filter((_, i) => i % FOLDS === f));
    const scoring = scoringOf(fit(view.filter((s) => !test.has(s.conversation))));
    for (const s of view) if (test.has(s.conversation)) scores.set(s, scoring);
  }
  // Each sentence is scored by the fold model that did not see its conversation.
  return combine(view, scores);
}

function combine(view: readonly SentenceRows[], scores: Map<SentenceRows, Scoring>): Metrics & { sentenceScores: SentenceScore[] } {
  const byFold = new Map<Scoring, SentenceRows[]>();
  for (const s of view) {
    const f = scores.get(s)!;
    byFold.set(f, [...(byFold.get(f) ?? []), s]);
  }
  // Ranking metrics average over sentences; AUROC needs every sentence score on one list.
  const all = [...byFold].map(([f, ss]) => evaluate(ss, f));
  const sentenceScores = all.flatMap((m) => m.sentenceScores);
  const n = all.reduce((a, m) => a + m.supported, 0);
  const pos = sentenceScores.filter((x) => x.supported).map((x) => x.s);
  const neg = sentenceScores.filter((x) => !x.supported).map((x) => x.s);
  let wins = 0;
  for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
  return {
    successAt1: all.reduce((a, m) => a + m.successAt1 * m.supported, 0) / n,
    successAt3: all.reduce((a, m) => a + m.successAt3 * m.supported, 0) / n,
    mrr: all.reduce((a, m) => a + m.mrr * m.supported, 0) / n,
    auroc: wins / (pos.length * neg.length),
    supported: pos.length,
    unsupported: neg.length,
    sentenceScores,
  };
}

function row(name: string, m: Metrics): string {
  const f = (v: number): string => v.toFixed(3).padStart(8);
  return `${name.padEnd(52)}${f(m.successAt1)}${f(m.successAt3)}${f(m.mrr)}${f(m.auroc)}`;
}

const set = loadDevSet();
const started = performance.now();
const sentences = await extract(new UseLiteEmbedder(), set);
const shipped = EvidenceScorer.load();
const shippedScoring: Scoring = { pair: (x) => shipped.pair(x), sentence: (sorted) => shipped.sentence(sorted[0]?.x, sorted.map((c) => c.p)) };
const zero = (names: (typeof FEATURES)[number][]) => (x: number[]): number[] => x.map((v, i) => (names.some((n) => col(n) === i) ? 0 : v));

console.log(`evidence dev set: ${set.length} conversations, ${sentences.filter((s) => s.sentence.gold).length} supported and ${sentences.filter((s) => !s.sentence.gold).length} unsupported summary sentences (${((performance.now() - started) / 1000).toFixed(1)} s to extract)`);
console.log(`${'method'.padEnd(52)}${'succ@1'.padStart(8)}${'succ@3'.padStart(8)}${'MRR'.padStart(8)}${'AUROC'.padStart(8)}`);
console.log(row('cosine only (USE-lite)', evaluate(sentences, byPair((x) => x[col('cos')]!))));
console.log(row('lexical only (IDF-weighted overlap)', evaluate(sentences, byPair((x) => x[col('lex')]!))));
console.log(row('hybrid RRF of cosine and lexical ranks', evaluate(sentences, byPair((x) => x[col('rrf')]! + 1e-3 * x[col('cos')]!))));
console.log(row('scorer, CV, single segments only (no windows)', crossValidated(sentences, undefined, (x) => x[col('window')] === 0)));
console.log(row('scorer, CV, without number features', crossValidated(sentences, zero(['numHit', 'numMiss', 'numMissSource']))));
console.log(row('scorer, CV, without negation feature', crossValidated(sentences, zero(['negMismatch']))));
console.log(row('scorer, CV, without speaker features', crossValidated(sentences, zero(['speakerMatch', 'speakerMismatch']))));
const cv = crossValidated(sentences);
console.log(row(`scorer, ${FOLDS}-fold CV by conversation (held out)`, cv));
const inSample = evaluate(sentences, shippedScoring);
console.log(row('shipped scorer (trained on all of the dev set)', inSample));
const pos = cv.sentenceScores.filter((x) => x.supported).map((x) => x.s);
const kinds = [...new Set(cv.sentenceScores.filter((x) => !x.supported).map((x) => x.kind))].sort();
console.log(`unsupported-detection AUROC by alteration (CV): ${kinds.map((k) => `${k} ${auroc(pos, cv.sentenceScores.filter((x) => x.kind === k).map((x) => x.s)).toFixed(3)}`).join(', ')}`);
console.log('');
console.log(`success@1 ${cv.successAt1.toFixed(3)}  success@3 ${cv.successAt3.toFixed(3)}  MRR ${cv.mrr.toFixed(3)}  AUROC ${cv.auroc.toFixed(3)}  (cross-validated; targets: success@1 >= 0.8, AUROC >= 0.85)`);
