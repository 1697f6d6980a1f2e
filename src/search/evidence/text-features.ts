/** Lexical features of a piece of text, computed once per text and reused for every pair it is part of. */
export interface TextProfile {
  /** Stems of content words (stopwords removed), with repeats. */
  readonly stems: readonly string[];
  readonly stemSet: ReadonlySet<string>;
  /** Numbers mentioned (digits and number words), as canonical strings: "3", "2.5", "140/90". */
  readonly numbers: ReadonlySet<string>;
  /** A negation cue occurs: not, no, never, denies, without, … */
  readonly negated: boolean;
  /** Lower-case word tokens (for name matching). */
  readonly words: ReadonlySet<string>;
  /** The text in lower case, single-spaced, padded with a space at each end (for phrase matching). */
  readonly lower: string;
}

const STOPWORDS = new Set(
  ('a an and are as at be been being but by can could did do does doing for from had has have having he her hers him his how i if in into is it its ' +
    'just me my of on or our ours she so some such than that the their them then there these they this those to too us very was we were what when ' +
    'where which while who whom why will with would you your yours also about after again all am any because before both each few further here more ' +
    'most once only other own same should through under until up out over off s t ll re ve d m o y yeah yes okay ok oh um uh well like right so ' +
    'really actually just got get go going gonna know think mean thing things kind sort let lets said says say ' +
    'mm hmm mhm mm-hmm uh-huh huh ah er erm hm yep yup gotta wanna sure ' +
    // Negation cues are the negation feature's business, not content: "denies pain" vs "no pain".
    'not no never none nothing without deny denies denied reports reported report states stated')
    .split(' '),
);

const NEGATION = /\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|can't|won't|don't|doesn't|didn't|isn't|aren't|wasn't|weren't|haven't|hasn't|hadn't|shouldn't|wouldn't|couldn't|denies|denied|deny|negative|absent|free of|ruled out|rules out|unable|refused|declined|stopped|no longer|nope)\b|n't\b/i;

const NUMBER_WORDS: Record<string, string> = {
  zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10',
  eleven: '11', twelve: '12', thirteen: '13', fourteen: '14', fifteen: '15', sixteen: '16', seventeen: '17', eighteen: '18',
  nineteen: '19', twenty: '20', thirty: '30', forty: '40', fifty: '50', sixty: '60', seventy: '70', eighty: '80', ninety: '90',
  hundred: '100', thousand: '1000', once: '1', twice: '2', half: '0.5', dozen: '12', first: '1', second: '2', third: '3',
  single: '1', double: '2', triple: '3', couple: '2', quarter: '0.25',
};
const SCALE: Record<string, number> = { k: 1e3, thousand: 1e3, m: 1e6, million: 1e6, mn: 1e6, b: 1e9, bn: 1e9, billion: 1e9 };

/** A light suffix stripper (Porter's step 1 and a few derivational endings): enough to meet "reports"/"reported". */
export function stem(word: string): string {
  let w = word.toLowerCase();
  if (w.length <= 3) return w;
  if (w.endsWith("'s")) w = w.slice(0, -2);
  if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  for (const suffix of ['ational', 'ization', 'fulness', 'iveness', 'ement', 'ment', 'ness', 'ingly', 'edly', 'ing', 'ed', 'ly', 'er', 'ion', 'al', 'ive', 'ity', 'able', 'ible']) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3) {
      w = w.slice(0, -suffix.length);
      break;
    }
  }
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  if (w.length > 3 && w[w.length - 1] === w[w.length - 2] && !/[aeiouls]/.test(w[w.length - 1]!)) w = w.slice(0, -1);
  if (w.endsWith('y') && w.length > 3) w = w.slice(0, -1) + 'i';
  return w;
}

export function profile(text: string): TextProfile {
  const lower = text.toLowerCase();
  const tokens = lower.match(/[\p{L}][\p{L}'’-]*|\d+(?:[.,:/]\d+)*/gu) ?? [];
  const stems: string[] = [];
  const words = new Set<string>();
  for (const t of tokens) {
    const w = t.replace(/[’']/g, "'");
    words.add(w.replace(/'s$/, ''));
    if (STOPWORDS.has(w) || /^\d/.test(w)) continue;
    for (const part of w.split('-')) if (part.length > 1 && !STOPWORDS.has(part)) stems.push(stem(part));
  }
  const padded = ` ${lower.replace(/[^\p{L}\p{N}'-]+/gu, ' ').trim()} `;
  return { stems, stemSet: new Set(stems), numbers: numbersOf(lower), negated: NEGATION.test(lower), words, lower: padded };
}

/** Numbers in canonical form: digits ("1,200" → "1200", "$3.5m" → "3500000"), number words, ratios ("140/90"). */
export function numbersOf(lower: string): Set<string> {
  const out = new Set<string>();
  for (const m of lower.matchAll(/(\d+(?:,\d{3})*(?:\.\d+)?)(?:\s?(k|m|mn|bn|b|thousand|million|billion)\b)?(?:\/(\d+))?/g)) {
    const base = Number(m[1]!.replace(/,/g, ''));
    const scaled = m[2] ? base * SCALE[m[2]]! : base;
    out.add(m[3] ? `${base}/${m[3]}` : String(scaled));
  }
  for (const m of lower.matchAll(/\b([a-z]+)\b/g)) {
    const n = NUMBER_WORDS[m[1]!];
    if (n !== undefined && !['second', 'first', 'once', 'single', 'half'].includes(m[1]!)) out.add(n);
  }
  // Clock times: "9:30" also counts as "9".
  for (const m of lower.matchAll(/\b(\d{1,2}):(\d{2})\b/g)) out.add(String(Number(m[1])));
  return out;
}
