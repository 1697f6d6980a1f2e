import type { Unit } from './evidence-units.js';
import type { TextProfile } from './text-features.js';

/** Feature names, in the order of every feature vector and of the scorer's weights. */
export const FEATURES = [
  'cos', // cosine of sentence and unit embeddings
  'cosGap', // cos minus the best cos of any unit for this sentence (0 for the best)
  'lex', // IDF-weighted share of the sentence's content stems found in the unit
  'lexGap',
  'rrf', // reciprocal-rank fusion of the cos and lex ranks, scaled to ~[0, 1]
  'numHit', // share of the sentence's numbers that the unit mentions (0 without numbers)
  'numMiss', // share of the sentence's numbers the unit does not mention
  'numAnyMiss', // the unit misses at least one of the sentence's numbers while mentioning other numbers
  'numMissSource', // share of the sentence's numbers the whole source never mentions
  'negMismatch', // one of sentence and unit is negated, the other not
  'speakerMatch', // the sentence names a participant who speaks in, or is named in, the unit
  'speakerMismatch', // the sentence names participants, none of whom speaks in or is named in the unit
  'window', // the unit is a window of two adjacent chunks
  'question', // every part of the unit is a question: it asks, it does not assert
  'novel', // IDF-weighted share of the sentence's content stems that the whole source never uses
] as const;

export interface SourceStats {
  readonly idf: ReadonlyMap<string, number>;
  readonly maxIdf: number;
  readonly numbers: ReadonlySet<string>;
  readonly stems: ReadonlySet<string>;
  /** Participants (speaker labels) and the lower-case words that refer to each. */
  readonly participants: ReadonlyMap<string, ReadonlySet<string>>;
}

const TITLES = new Set(['dr', 'dr.', 'mr', 'mr.', 'mrs', 'mrs.', 'ms', 'ms.', 'prof', 'prof.', 'the', 'speaker']);
const ROLE_WORDS: Record<string, string[]> = {
  doctor: ['doctor', 'physician', 'clinician', 'dr', 'gp', 'provider'],
  patient: ['patient', 'pt'],
  nurse: ['nurse'],
  interviewer: ['interviewer'],
  candidate: ['candidate', 'applicant', 'interviewee'],
  customer: ['customer', 'caller', 'client'],
  agent: ['agent', 'representative', 'rep', 'support'],
  host: ['host', 'presenter'],
  guest: ['guest'],
  manager: ['manager'],
  teacher: ['teacher', 'tutor'],
  student: ['student'],
  parent: ['parent', 'mother', 'father', 'mom', 'dad'],
};

export function sourceStats(chunks: readonly Unit[]): SourceStats {
  const df = new Map<string, number>();
  const numbers = new Set<string>();
  const speakers = new Set<string>();
  for (const u of chunks) {
    for (const s of u.profile.stemSet) df.set(s, (df.get(s) ?? 0) + 1);
    for (const n of u.profile.numbers) numbers.add(n);
    for (const s of u.speakers) speakers.add(s);
  }
  const n = chunks.length;
  const idf = new Map<string, number>();
  for (const [s, d] of df) idf.set(s, Math.log(1 + (n - d + 0.5) / (d + 0.5)));
  const participants = new Map<string, Set<string>>();
  for (const sp of speakers) {
    const words = new Set<string>();
    for (const w of sp.toLowerCase().split(/[\s_]+/)) {
      if (w === '' || TITLES.has(w) || /^\d+$/.test(w)) continue;
      words.add(w.replace(/\.$/, ''));
      for (const [role, aliases] of Object.entries(ROLE_WORDS)) if (w === role || aliases.includes(w)) aliases.concat(role).forEach((a) => words.add(a));
    }
    if (words.size > 0) participants.set(sp, words);
  }
  return { idf, maxIdf: Math.log(1 + (n + 0.5) / 0.5), numbers, stems: new Set(df.keys()), participants };
}

function idfOf(stats: SourceStats, stem: string): number {
  return stats.idf.get(stem) ?? stats.maxIdf;
}

export function lexical(stats: SourceStats, s: TextProfile, u: TextProfile): number {
  let total = 0;
  let hit = 0;
  for (const t of s.stemSet) {
    const w = idfOf(stats, t);
    total += w;
    if (u.stemSet.has(t)) hit += w;
  }
  return total > 0 ? hit / total : 0;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Per-sentence facts shared by all its candidates. */
export interface SentenceFacts {
  readonly profile: TextProfile;
  readonly vector: Float32Array;
  readonly numMissSource: number;
  readonly novel: number;
  /** Participants the sentence refers to. */
  readonly mentions: readonly string[];
}

export function sentenceFacts(stats: SourceStats, p: TextProfile, vector: Float32Array): SentenceFacts {
  let missing = 0;
  for (const n of p.numbers) if (!stats.numbers.has(n)) missing++;
  let total = 0;
  let novel = 0;
  for (const t of p.stemSet) {
    const w = idfOf(stats, t);
    total += w;
    if (!stats.stems.has(t)) novel += w;
  }
  const mentions: string[] = [];
  for (const [sp, words] of stats.participants) if ([...words].some((w) => p.words.has(w))) mentions.push(sp);
  return { profile: p, vector, numMissSource: p.numbers.size > 0 ? missing / p.numbers.size : 0, novel: total > 0 ? novel / total : 0, mentions };
}

export function featureVector(stats: SourceStats, s: SentenceFacts, u: Unit, cos: number, bestCos: number, lex: number, bestLex: number, rrf: number): number[] {
  const sn = s.profile.numbers;
  let numHit = 0;
  for (const n of sn) if (u.profile.numbers.has(n)) numHit++;
  let match = 0;
  let mismatch = 0;
  if (s.mentions.length > 0) {
    const ok = s.mentions.some((m) => u.speakers.includes(m) || [...stats.participants.get(m)!].some((w) => u.profile.words.has(w)));
    match = ok ? 1 : 0;
    mismatch = ok ? 0 : 1;
  }
  return [
    cos,
    cos - bestCos,
    lex,
    lex - bestLex,
    rrf,
    sn.size > 0 ? numHit / sn.size : 0,
    sn.size > 0 ? 1 - numHit / sn.size : 0,
    numHit < sn.size && u.profile.numbers.size > numHit ? 1 : 0,
    s.numMissSource,
    s.profile.negated !== u.profile.negated ? 1 : 0,
    match,
    mismatch,
    u.window ? 1 : 0,
    u.parts.every((p) => p.text.trimEnd().endsWith('?')) ? 1 : 0,
    s.novel,
  ];
}
