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

function seconds(clock: string | undefined): number | null {
  if (!clock) return null;
  return clock.split(':').reduce((s, part) => s * 60 + Number(part), 0);
}

/**
 * The source as segments. Segments given are kept (ids default to s1, s2, …). Plain text: each
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
