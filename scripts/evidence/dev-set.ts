import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FEATURES } from '../../src/search/evidence/evidence-features.js';
import { EvidenceLinker } from '../../src/search/evidence/evidence-linker.js';
import { EvidenceScorer, SENTENCE_FEATURES } from '../../src/search/evidence/evidence-scorer.js';
import type { TextEmbedder } from '../../src/search/text-embedder.js';

/**
 * The evidence dev set, data/evidence-dev/*.txt: a transcript ("Speaker: text" lines, or paragraphs), a line
 * "===", then one summary sentence per line:
 *   + 2,3 | a sentence supported by segments 2 and 3 (1-based, in transcript order)
 *   - kind | a sentence the transcript does not support (kind: negation, number, speaker, invented)
 */
export interface DevSentence {
  readonly text: string;
  readonly gold: ReadonlySet<string> | null;
  readonly kind: string;
}

export interface DevConversation {
  readonly name: string;
  readonly transcript: string;
  readonly sentences: readonly DevSentence[];
}

export const DEV_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'evidence-dev');

export function loadDevSet(dir = DEV_DIR): DevConversation[] {
  return readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((f) => {
    const raw = readFileSync(join(dir, f), 'utf8');
    const [head, tail] = raw.split(/^===\s*$/m);
    if (tail === undefined) throw new Error(`${f}: no '===' line`);
    const transcript = head!.split('\n').filter((l) => !l.startsWith('#')).join('\n').trim();
    const sentences = tail.split('\n').filter((l) => l.trim() !== '').map((line, i): DevSentence => {
      const m = /^([+-])\s*([^|]+)\|\s*(.+)$/.exec(line.trim());
      if (!m) throw new Error(`${f}: summary line ${i + 1} is not '+ ids | text' or '- kind | text'`);
      const gold = m[1] === '+' ? new Set(m[2]!.split(',').map((s) => `s${s.trim()}`)) : null;
      return { text: m[3]!.trim(), gold, kind: m[1] === '+' ? 'supported' : m[2]!.trim() };
    });
    return { name: f.replace(/\.txt$/, ''), transcript, sentences };
  });
}

/** One summary sentence's candidates as feature rows, with whether each candidate touches gold evidence. */
export interface SentenceRows {
  readonly conversation: string;
  readonly sentence: DevSentence;
  readonly rows: readonly { x: number[]; gold: boolean; segmentIds: string[] }[];
}

/** Runs retrieval and feature extraction (not the scorer) over the dev set. */
export async function extract(embedder: TextEmbedder, set: readonly DevConversation[]): Promise<SentenceRows[]> {
  const flat = (names: readonly string[]) => ({ features: [...names], mean: names.map(() => 0), std: names.map(() => 1), weights: names.map(() => 0), bias: 0 });
  const neutral = new EvidenceScorer({ pair: flat(FEATURES), sentence: flat(SENTENCE_FEATURES), threshold: 0.5, trainedOn: 'none' });
  const linker = new EvidenceLinker(embedder, neutral);
  const out: SentenceRows[] = [];
  for (const conv of set) {
    const { segments, sentences } = await linker.candidates({ source: { text: conv.transcript }, summary: conv.sentences.map((s) => s.text), topK: 3 });
    for (const s of conv.sentences) {
      for (const id of s.gold ?? []) if (!segments.some((seg) => seg.id === id)) throw new Error(`${conv.name}: gold segment ${id} does not exist (${segments.length} segments)`);
    }
    sentences.forEach((s, i) => {
      const sentence = conv.sentences[i]!;
      out.push({
        conversation: conv.name,
        sentence,
        rows: s.candidates.map((c) => {
          const segmentIds = [...new Set(c.unit.parts.map((p) => p.segment.id))];
          return { x: c.x, gold: sentence.gold !== null && segmentIds.some((id) => sentence.gold!.has(id)), segmentIds };
        }),
      });
    });
  }
  return out;
}
