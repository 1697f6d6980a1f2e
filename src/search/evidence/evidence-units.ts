import { normalise } from '../text-embedder.js';
import { splitSentences } from './sentence-splitter.js';
import type { Segment } from './source-segments.js';
import { profile, type TextProfile } from './text-features.js';

/** A retrievable piece of the source: a chunk of one segment, or a window of two adjacent chunks. */
export interface Unit {
  readonly index: number;
  /** The chunks this unit spans (one, or two for a window), in order. */
  readonly parts: readonly Chunk[];
  readonly window: boolean;
  readonly text: string;
  readonly profile: TextProfile;
  readonly speakers: readonly string[];
  vector: Float32Array | null;
}

/** Consecutive sentences of one segment, at most MAX_CHUNK_WORDS words (one sentence may exceed it). */
export interface Chunk {
  readonly segment: Segment;
  readonly segmentIndex: number;
  /** Offsets into the segment's text. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const MAX_CHUNK_WORDS = 45;

/**
 * Units of a source: every chunk alone, and every pair of adjacent chunks as a window (a question and its
 * answer; a claim and the sentence that completes it). Windows get no embedding call of their own: their
 * vector is the normalised sum of their parts'.
 */
export function buildUnits(segments: readonly Segment[]): { chunks: Unit[]; windows: Unit[] } {
  const chunks: Chunk[] = [];
  segments.forEach((segment, segmentIndex) => {
    let cur: { start: number; end: number; words: number } | null = null;
    for (const s of splitSentences(segment.text)) {
      const words = s.text.split(/\s+/).length;
      if (cur && cur.words + words <= MAX_CHUNK_WORDS) {
        cur.end = s.end;
        cur.words += words;
        continue;
      }
      if (cur) chunks.push({ segment, segmentIndex, start: cur.start, end: cur.end, text: segment.text.slice(cur.start, cur.end) });
      cur = { start: s.start, end: s.end, words };
    }
    if (cur) chunks.push({ segment, segmentIndex, start: cur.start, end: cur.end, text: segment.text.slice(cur.start, cur.end) });
  });
  // Chunks without a content word ("Yeah.", "Mm-hmm.", "Okay, right.") support nothing: they are neither embedded
  // nor candidates, and a window joins the content chunks on either side of them. Answers to a question stay,
  // however short ("No." after "Any numbness?" is the evidence for "denies numbness").
  const single = chunks
    .map((c) => ({ c, p: profile(c.text) }))
    .filter(({ p }, i) => p.stems.length > 0 || p.numbers.size > 0 || p.negated || (i > 0 && chunks[i - 1]!.text.trimEnd().endsWith('?')))
    .map(({ c, p }, i): Unit => ({ index: i, parts: [c], window: false, text: c.text, profile: p, speakers: c.segment.speaker ? [c.segment.speaker] : [], vector: null }));
  const windows: Unit[] = [];
  for (let i = 0; i + 1 < single.length; i++) {
    const a = single[i]!.parts[0]!;
    const b = single[i + 1]!.parts[0]!;
    const text = `${a.text} ${b.text}`;
    const speakers = [...new Set([a.segment.speaker, b.segment.speaker].filter((s): s is string => s !== null))];
    windows.push({ index: single.length + i, parts: [a, b], window: true, text, profile: profile(text), speakers, vector: null });
  }
  return { chunks: single, windows };
}

/** Fills each window's vector from its parts' (already embedded) vectors. */
export function windowVectors(chunks: readonly Unit[], windows: readonly Unit[]): void {
  for (const w of windows) {
    const i = w.index - chunks.length;
    const a = chunks[i]!.vector!;
    const b = chunks[i + 1]!.vector!;
    const v = new Float32Array(a.length);
    for (let j = 0; j < v.length; j++) v[j] = a[j]! + b[j]!;
    w.vector = normalise(v);
  }
}
