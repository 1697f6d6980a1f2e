import { MpError } from '../../errors.js';
import type { LinkRequest } from './evidence-schema.js';

export interface Segment {
  readonly id: string;
  readonly speaker: string | null;
  readonly start: number | null;
  readonly end: number | null;
  readonly text: string;
}

/** "[00:01:23] Alice: text", "Alice (00:12): text", "DOCTOR: text", "Dr. Lee: text". */
const TURN = /^\s*(?:\[?(\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)\]?\s*[-–]?\s*)?([A-Z\p{Lu}][\p{L}0-9 .'-]{0,40}?)\s*(?:\((\d{1,2}:\d{2}(?::\d{2})?)\))?\s*:\s+(.*)$/u;

/** A subtitle cue timing line (SRT "00:00:01,000 --> 00:00:04,000", WebVTT "00:01.000 --> 00:04.000 align:start"). */
const CUE = /^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})/;

function seconds(clock: string | undefined): number | null {
  if (!clock) return null;
  return clock.replace(',', '.').split(':').reduce((s, part) => s * 60 + Number(part), 0);
}

/** SRT/WebVTT cues as segments: times from the cue, speaker from `<v Name>` or a leading "Name:". */
function subtitleSegments(text: string): Segment[] {
  const out: Segment[] = [];
  for (const block of text.split(/\r?\n\s*\r?\n/)) {
    const lines = block.split(/\r?\n/);
    const at = lines.findIndex((l) => CUE.test(l));
    if (at < 0) continue;
    const m = CUE.exec(lines[at]!)!;
    let body = lines.slice(at + 1).join(' ').trim();
    let speaker: string | null = null;
    const voice = /^<v(?:\.[^ >]+)*\s+([^>]+)>/.exec(body);
    if (voice) speaker = voice[1]!.trim();
    body = body.replace(/<[^>]+>/g, '').trim();
    const turn = !speaker ? TURN.exec(body) : null;
    if (turn && !turn[1] && turn[2]!.split(' ').length <= 4) {
      speaker = turn[2]!.trim();
      body = turn[4]!.trim();
    }
    if (body !== '') out.push({ id: `s${out.length + 1}`, speaker, start: seconds(m[1]), end: seconds(m[2]), text: body });
  }
  return out;
}

/**
 * The source as segments. Segments given are kept (ids default to s1, s2, …). SRT or WebVTT subtitles: one segment
 * per cue, with its times (and the `<v>` voice or "Name:" as speaker). Other plain text: each
 * "Speaker: …" line starts a turn (with a timestamp when one leads the line) and unlabelled lines continue
 * it; text with no speaker labels at all becomes one segment per paragraph.
 */
export function sourceSegments(source: LinkRequest['source']): Segment[] {
  if ('segments' in source) {
    const seen = new Set<string>();
    return source.segments.map((s, i) => {
      const id = s.id ?? `s${i + 1}`;
      if (seen.has(id)) throw new MpError('MP_INVALID_ARG', `source.segments.${i}.id: '${id}' is used twice`);
      seen.add(id);
      return { id, speaker: s.speaker ?? null, start: s.start ?? null, end: s.end ?? null, text: s.text };
    });
  }
  if (source.text.split(/\r?\n/).some((l) => CUE.test(l))) {
    const cues = subtitleSegments(source.text);
    if (cues.length > 0) return cues;
  }
  const lines = source.text.split(/\r?\n/);
  const labelled = lines.filter((l) => TURN.test(l)).length;
  const out: { speaker: string | null; start: number | null; text: string }[] = [];
  if (labelled >= 2 && labelled >= lines.filter((l) => l.trim() !== '').length / 3) {
    for (const line of lines) {
      const m = TURN.exec(line);
      if (m && m[2]!.split(' ').length <= 4) out.push({ speaker: m[2]!.trim(), start: seconds(m[1] ?? m[3]), text: m[4]!.trim() });
      else if (line.trim() !== '' && out.length > 0) out[out.length - 1]!.text += ` ${line.trim()}`;
      else if (line.trim() !== '') out.push({ speaker: null, start: null, text: line.trim() });
    }
  } else {
    for (const para of source.text.split(/\n\s*\n/)) if (para.trim() !== '') out.push({ speaker: null, start: null, text: para.trim().replace(/\s*\n\s*/g, ' ') });
  }
  return out.map((s, i) => ({ id: `s${i + 1}`, speaker: s.speaker, start: s.start, end: out[i + 1]?.start ?? null, text: s.text }));
}
