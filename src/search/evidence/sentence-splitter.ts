/** A sentence of a text, with its character offsets in that text (`text.slice(start, end)`). */
export interface TextSpan {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Words after which a period does not end a sentence (lower-case, without the period). */
const ABBREVIATIONS = new Set([
  'dr', 'mr', 'mrs', 'ms', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'etc', 'e.g', 'i.e', 'cf', 'approx', 'no', 'nos', 'fig', 'vol',
  'inc', 'ltd', 'co', 'corp', 'dept', 'est', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
  'mon', 'tue', 'tues', 'wed', 'thu', 'thurs', 'fri', 'sat', 'sun', 'a.m', 'p.m', 'u.s', 'u.k', 'ph.d', 'b.sc', 'm.d', 'mg', 'ml',
  'min', 'max', 'hr', 'hrs', 'wk', 'wks', 'yr', 'yrs', 'pt', 'pts', 'dx', 'hx', 'rx', 'tx', 'sx', 'bp', 'ca', 'al', 'govt', 'gen', 'col', 'lt', 'sgt', 'capt',
]);

/** A list item or a label ("Plan: ", "DOCTOR: ") at the start of a line: each starts a new sentence. */
const LINE_START = /^\s*(?:[-*•‣▪]|\d{1,3}[.)]|[a-z][.)])\s+|^\s*[A-Z][\w .'-]{0,40}:\s+/;
/** List markers are not part of the sentence; labels are kept ("Former smoker: quit 11 years ago") unless all capitals. */
const LIST_MARKER = /^\s*(?:[-*•‣▪]|\d{1,3}[.)]|[a-z][.)])\s+/;

/**
 * Splits text into sentences with offsets. Ends a sentence at . ! ? (and closing quotes/brackets) followed by
 * space and a likely sentence start, except after known abbreviations, single initials ("J. Smith") and inside
 * numbers ("3.5 mg"); also at line breaks that start a list item or a speaker turn, and at blank lines.
 * List markers and speaker labels stay outside the returned span.
 */
export function splitSentences(text: string): TextSpan[] {
  const out: TextSpan[] = [];
  const lines = lineRanges(text);
  for (const [ls, le] of lines) {
    let start = ls;
    const marker = LIST_MARKER.exec(text.slice(ls, le));
    if (marker) start = ls + marker[0].length;
    let i = start;
    while (i < le) {
      const ch = text[i]!;
      if (ch === '.' || ch === '!' || ch === '?' || ch === '…') {
        let j = i + 1;
        while (j < le && /[.!?…"'”’)\]]/.test(text[j]!)) j++;
        const atEnd = j >= le;
        if (atEnd || (/\s/.test(text[j]!) && isBoundary(text, start, i, j, le))) {
          push(out, text, start, j);
          start = j;
          i = j;
          continue;
        }
        i = j;
        continue;
      }
      i++;
    }
    push(out, text, start, le);
  }
  return out;
}

function isBoundary(text: string, start: number, dot: number, after: number, lineEnd: number): boolean {
  let k = after;
  while (k < lineEnd && /\s/.test(text[k]!)) k++;
  if (k >= lineEnd) return true;
  const next = text[k]!;
  // A lower-case continuation is not a new sentence ("approx. five", "e.g. the").
  if (/[a-z]/.test(next)) return false;
  if (text[dot] !== '.') return true;
  const word = /([\p{L}.]+)$/u.exec(text.slice(start, dot))?.[1]?.toLowerCase() ?? '';
  // "No. 5" is an abbreviation; "No. Then..." ends a sentence.
  if (word === 'no') return !/\d/.test(next);
  if (ABBREVIATIONS.has(word) || ABBREVIATIONS.has(word.replace(/\.$/, ''))) return false;
  // A single capital initial: "J. Smith".
  if (/^\p{Lu}$/u.test(/(\p{L}+)$/u.exec(text.slice(start, dot))?.[1] ?? '')) return false;
  return true;
}

/** Line ranges, merging soft-wrapped lines: a line break ends a sentence only before a list item, a speaker label or a blank line. */
function lineRanges(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  let s = 0;
  const breaks: number[] = [];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') breaks.push(i);
  breaks.push(text.length);
  let cur = 0;
  for (const b of breaks) {
    const nextLine = text.slice(b + 1, text.indexOf('\n', b + 1) === -1 ? text.length : text.indexOf('\n', b + 1));
    const blank = nextLine.trim() === '';
    if (b === text.length || blank || LINE_START.test(nextLine) || text.slice(cur, b).trim() === '') {
      ranges.push([s, b]);
      s = b + 1;
    }
    cur = b + 1;
  }
  return ranges;
}

/** A speaker label in capitals ("PATIENT: ", "DR. LEE: "), which is not part of what was said. */
const INLINE_LABEL = /^[A-Z][A-Z.'-]*(?: [A-Z][A-Z.'-]*){0,2}:\s+/;

function push(out: TextSpan[], text: string, start: number, end: number): void {
  while (start < end && /\s/.test(text[start]!)) start++;
  // A speaker label inside a line ("Any pain? PATIENT: No.") is not part of the sentence.
  const label = INLINE_LABEL.exec(text.slice(start, end));
  if (label && label[0].length < end - start) start += label[0].length;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  const sentence = text.slice(start, end);
  // A heading ("Plan:", "Assessment and plan:") introduces sentences; it claims nothing itself.
  if (/:$/.test(sentence) && sentence.split(/\s+/).length <= 4) return;
  if (end > start && /[\p{L}\p{N}]/u.test(sentence)) out.push({ start, end, text: sentence });
}
