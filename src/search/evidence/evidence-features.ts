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
  'coverTop3', // IDF-weighted share of the sentence's content stems found in the 3 lexically best units together
] as const;

export interface SourceStats {
  readonly idf: ReadonlyMap<string, number>;
  readonly maxIdf: number;
  readonly numbers: ReadonlySet<string>;
  readonly stems: ReadonlySet<string>;
  /** Participants (speaker labels) and the lower-case words that refer to each. */
  readonly participants: ReadonlyMap<string, ReadonlySet<string>>;
}

const TITLES = new Set(['dr', 'mr', 'mrs', 'ms', 'prof', 'professor', 'the', 'speaker', 'spk', 'participant']);
/** Words of role-like labels ("User Interface", "Industrial Designer") that do not name anyone alone. */
const GENERIC_LABEL_WORDS = new Set(['user', 'interface', 'project', 'industrial', 'marketing', 'sales', 'support', 'team', 'group', 'product', 'technical', 'unknown', 'other', 'lead', 'expert', 'member']);
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
    const aliases = participantAliases(sp);
    if (aliases.size > 0) participants.set(sp, aliases);
  }
  return { idf, maxIdf: Math.log(1 + (n + 0.5) / 0.5), numbers, stems: new Set(df.keys()), participants };
}

/**
 * The phrases that refer to a participant: the label without titles ("Dr. Lee" → "lee", "Project Manager" →
 * "project manager"), the words of a personal name ("Diane Foster" → "diane", "foster"), and the synonyms of a
 * role ("DOCTOR" → "physician", …). Single letters and numbers ("A", "Speaker 2") refer to nobody.
 */
export function participantAliases(label: string): Set<string> {
  const tokens = label.toLowerCase().replace(/\./g, '').split(/[\s_]+/).filter((t) => t !== '');
  const content = tokens.filter((t) => !TITLES.has(t) && !/^\d+$/.test(t) && t.length >= 2);
  const out = new Set<string>();
  if (content.length === 0) return out;
  out.add(content.join(' '));
  const roles = Object.entries(ROLE_WORDS).filter(([role, aliases]) => content.some((t) => t === role || aliases.includes(t)));
  for (const [role, aliases] of roles) [role, ...aliases].forEach((a) => out.add(a));
  // A personal name (capitalised words, no role among them): each part names the person.
  if (roles.length === 0 && /^(?:[A-Z][a-z'-]+\.?\s*){2,3}$/.test(label.trim())) {
    for (const t of content) if (t.length >= 3 && !GENERIC_LABEL_WORDS.has(t)) out.add(t);
  }
  return out;
}

function refersTo(aliases: ReadonlySet<string>, p: TextProfile): boolean {
  for (const a of aliases) if (p.lower.includes(` ${a} `) || p.lower.includes(` ${a}'s `)) return true;
  return false;
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
  for (const [sp, aliases] of stats.participants) if (refersTo(aliases, p)) mentions.push(sp);
  return { profile: p, vector, numMissSource: p.numbers.size > 0 ? missing / p.numbers.size : 0, novel: total > 0 ? novel / total : 0, mentions };
}

/** IDF-weighted share of the sentence's stems found in any of `units` (a claim that draws on several turns). */
export function coverage(stats: SourceStats, s: TextProfile, units: readonly Unit[]): number {
  let total = 0;
  let hit = 0;
  for (const t of s.stemSet) {
    const w = idfOf(stats, t);
    total += w;
    if (units.some((u) => u.profile.stemSet.has(t))) hit += w;
  }
  return total > 0 ? hit / total : 0;
}

export function featureVector(stats: SourceStats, s: SentenceFacts, u: Unit, cos: number, bestCos: number, lex: number, bestLex: number, rrf: number, coverTop3: number): number[] {
  const sn = s.profile.numbers;
  let numHit = 0;
  for (const n of sn) if (u.profile.numbers.has(n)) numHit++;
  let match = 0;
  let mismatch = 0;
  if (s.mentions.length > 0) {
    const ok = s.mentions.some((m) => u.speakers.includes(m) || refersTo(stats.participants.get(m)!, u.profile));
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
    coverTop3,
  ];
}
