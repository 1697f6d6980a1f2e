import { MpError } from '../../errors.js';
import { describeIssues } from '../../config/zod-issues.js';
import type { TextEmbedder } from '../text-embedder.js';
import { cosine, coverage, featureVector, lexical, sentenceFacts, sourceStats, type SentenceFacts } from './evidence-features.js';
import { LinkRequestSchema, type EvidenceItem, type LinkedSentence, type LinkRequest, type LinkResult } from './evidence-schema.js';
import { EvidenceScorer } from './evidence-scorer.js';
import { buildUnits, windowVectors, type Unit } from './evidence-units.js';
import { splitSentences } from './sentence-splitter.js';
import { sourceSegments, type Segment } from './source-segments.js';
import { profile } from './text-features.js';

/** Candidates kept per sentence from each ranking (embedding, lexical) before scoring. */
const DEPTH = 10;
const RRF_K = 60;

export interface Candidate {
  readonly unit: Unit;
  readonly x: number[];
}

export interface SentenceCandidates {
  readonly text: string;
  readonly start: number | null;
  readonly end: number | null;
  readonly facts: SentenceFacts;
  readonly candidates: readonly Candidate[];
}

/**
 * Links every sentence of a summary to the source spans that support it:
 * 1. the source becomes segments, the segments chunks (≤ 45 words) and windows of two adjacent chunks;
 * 2. chunks and sentences are embedded (USE-lite; cached by text, so a repeated source is cheap);
 * 3. per sentence, candidates are the top units by cosine and by IDF-weighted lexical overlap (hybrid
 *    retrieval), and each gets features for what similarity misses: numbers, negation, who said it;
 * 4. a logistic regression trained on the dev set (evidence-weights.json) ranks the candidates, and a second one,
 *    over the best candidate's features, scores the sentence; `supported` at the calibrated threshold.
 */
export class EvidenceLinker {
  readonly #cache = new Map<string, Float32Array>();

  constructor(readonly embedder: TextEmbedder, readonly scorer: EvidenceScorer = EvidenceScorer.load(), readonly cacheEntries = 20_000) {}

  async link(raw: unknown): Promise<LinkResult> {
    const started = performance.now();
    const r = LinkRequestSchema.safeParse(raw);
    if (!r.success) throw new MpError('MP_INVALID_ARG', `evidence link: ${describeIssues(r.error)}`);
    const req = r.data;
    const { segments, sentences, embedMs } = await this.candidates(req);
    const threshold = req.threshold ?? this.scorer.weights.threshold;
    const linked = sentences.map((s, index): LinkedSentence => {
      const scored = s.candidates.map((c) => ({ unit: c.unit, x: c.x, score: this.scorer.pair(c.x) })).sort((a, b) => b.score - a.score);
      const evidence: EvidenceItem[] = [];
      const seen = new Set<string>();
      for (const c of scored) {
        const key = c.unit.parts.map((p) => `${p.segment.id}:${p.start}`).join('|');
        if (seen.has(key)) continue;
        seen.add(key);
        evidence.push(toItem(c.unit, c.score));
        if (evidence.length >= req.topK) break;
      }
      const score = this.scorer.sentence(scored[0]?.x, scored.map((c) => c.score));
      return { index, text: s.text, start: s.start, end: s.end, score, supported: score >= threshold, evidence };
    });
    return {
      sentences: linked,
      threshold,
      embeddingModel: this.embedder.model,
      segments: segments.map((s) => ({ id: s.id, speaker: s.speaker, start: s.start, end: s.end, text: s.text })),
      timing: { embedMs, totalMs: performance.now() - started },
    };
  }

  /** Steps 1-3: segments, and per summary sentence its candidates with their feature vectors. */
  async candidates(req: LinkRequest): Promise<{ segments: Segment[]; sentences: SentenceCandidates[]; embedMs: number }> {
    const segments = sourceSegments(req.source);
    const { chunks, windows } = buildUnits(segments);
    const summary = typeof req.summary === 'string'
      ? splitSentences(req.summary).map((s) => ({ text: s.text, start: s.start as number | null, end: s.end as number | null }))
      : req.summary.map((text) => ({ text, start: null, end: null }));
    const t0 = performance.now();
    const vectors = await this.#embed([...chunks.map((c) => c.text), ...summary.map((s) => s.text)]);
    const embedMs = performance.now() - t0;
    chunks.forEach((c, i) => (c.vector = vectors[i]!));
    windowVectors(chunks, windows);
    const units = [...chunks, ...windows];
    const stats = sourceStats(chunks);
    const sentences = summary.map((s, i): SentenceCandidates => {
      const facts = sentenceFacts(stats, profile(s.text), vectors[chunks.length + i]!);
      return { ...s, facts, candidates: rankCandidates(stats, facts, units) };
    });
    return { segments, sentences, embedMs };
  }

  async #embed(texts: string[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(texts.length);
    const missing: number[] = [];
    texts.forEach((t, i) => {
      const v = this.#cache.get(t);
      if (v) out[i] = v;
      else missing.push(i);
    });
    const unique = [...new Set(missing.map((i) => texts[i]!))];
    const vs = await this.embedder.embed(unique);
    const byText = new Map(unique.map((t, i) => [t, vs[i]!]));
    for (const i of missing) out[i] = byText.get(texts[i]!)!;
    for (const [t, v] of byText) {
      if (this.#cache.size >= this.cacheEntries) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(t, v);
    }
    return out;
  }
}

function rankCandidates(stats: ReturnType<typeof sourceStats>, facts: SentenceFacts, units: readonly Unit[]): Candidate[] {
  const cos = units.map((u) => cosine(facts.vector, u.vector!));
  const lex = units.map((u) => lexical(stats, facts.profile, u.profile));
  const byCos = topIndices(cos, DEPTH * 3);
  const byLex = topIndices(lex, DEPTH * 3);
  const rrf = new Map<number, number>();
  byCos.forEach((u, r) => rrf.set(u, (rrf.get(u) ?? 0) + 1 / (RRF_K + r + 1)));
  byLex.forEach((u, r) => rrf.set(u, (rrf.get(u) ?? 0) + 1 / (RRF_K + r + 1)));
  const chosen = new Set([...byCos.slice(0, DEPTH), ...byLex.slice(0, DEPTH)]);
  const bestCos = Math.max(...cos);
  const bestLex = Math.max(...lex);
  const cover = coverage(stats, facts.profile, byLex.slice(0, 3).map((i) => units[i]!));
  return [...chosen].map((i) => ({
    unit: units[i]!,
    x: featureVector(stats, facts, units[i]!, cos[i]!, bestCos, lex[i]!, bestLex, ((rrf.get(i) ?? 0) * RRF_K) / 2, cover),
  }));
}

function topIndices(values: readonly number[], k: number): number[] {
  return values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i);
}

function toItem(unit: Unit, score: number): EvidenceItem {
  const segs = [...new Set(unit.parts.map((p) => p.segment))];
  const starts = segs.map((s) => s.start).filter((v): v is number => v !== null);
  const ends = segs.map((s) => s.end ?? s.start).filter((v): v is number => v !== null);
  return {
    segmentIds: segs.map((s) => s.id),
    spans: unit.parts.map((p) => ({ segmentId: p.segment.id, start: p.start, end: p.end, text: p.text })),
    speakers: unit.speakers,
    startTime: starts.length > 0 ? Math.min(...starts) : null,
    endTime: ends.length > 0 ? Math.max(...ends) : null,
    score,
  };
}
