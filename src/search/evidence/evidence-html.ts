import type { LinkResult } from './evidence-schema.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function clock(seconds: number | null): string {
  if (seconds === null) return '';
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A segment's text with the spans cited by summary sentences wrapped in <mark>, tagged with the sentence numbers. */
function markedSegment(text: string, spans: { start: number; end: number; sentences: number[]; supported: boolean }[]): string {
  const bounds = [...new Set([0, text.length, ...spans.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);
  let html = '';
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [a, b] = [bounds[i]!, bounds[i + 1]!];
    const covering = spans.filter((s) => s.start <= a && s.end >= b);
    const piece = esc(text.slice(a, b));
    if (covering.length === 0) {
      html += piece;
      continue;
    }
    const ids = [...new Set(covering.flatMap((s) => s.sentences))].sort((x, y) => x - y);
    const cls = covering.some((s) => s.supported) ? 'ev' : 'ev weak';
    html += `<mark class="${cls}" data-s="${ids.join(' ')}">${piece}<sup>${ids.map((n) => n + 1).join(',')}</sup></mark>`;
  }
  return html;
}

/**
 * A self-contained HTML page: the summary on the left, each sentence numbered and marked supported (green) or
 * not (red) with its score; the source on the right, each segment with speaker and time, and the best
 * evidence span of every sentence highlighted and tagged with that sentence's number. Hovering a sentence
 * highlights its evidence. No external resources.
 */
export function renderEvidenceHtml(result: LinkResult, title = 'Evidence'): string {
  const spansBySegment = new Map<string, { start: number; end: number; sentences: number[]; supported: boolean }[]>();
  for (const s of result.sentences) {
    const best = s.evidence[0];
    if (!best) continue;
    for (const span of best.spans) {
      const list = spansBySegment.get(span.segmentId) ?? [];
      list.push({ start: span.start, end: span.end, sentences: [s.index], supported: s.supported });
      spansBySegment.set(span.segmentId, list);
    }
  }
  const summary = result.sentences.map((s) => {
    const ev = s.evidence.map((e) => `${e.segmentIds.join('+')} (${e.score.toFixed(2)})`).join(', ');
    return `<li class="${s.supported ? 'ok' : 'no'}" data-i="${s.index}"><span class="n">${s.index + 1}</span> ${esc(s.text)}
      <div class="meta">${s.supported ? 'supported' : 'NOT SUPPORTED'} · score ${s.score.toFixed(2)}${ev ? ` · evidence ${esc(ev)}` : ''}</div></li>`;
  }).join('\n');
  const source = result.segments.map((seg) => `<div class="seg" id="${esc(seg.id)}"><div class="who">${esc(seg.id)} ${esc(seg.speaker ?? '')} <span class="t">${clock(seg.start)}</span></div>
      <div class="txt">${markedSegment(seg.text, spansBySegment.get(seg.id) ?? [])}</div></div>`).join('\n');
  const supported = result.sentences.filter((s) => s.supported).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; }
header { padding: 10px 16px; background: #24303c; color: #fff; }
main { display: grid; grid-template-columns: 1fr 1.2fr; gap: 16px; padding: 16px; }
h2 { font-size: 15px; margin: 0 0 8px; }
ol { list-style: none; padding: 0; margin: 0; }
li { padding: 8px 10px; margin-bottom: 8px; border-left: 5px solid; border-radius: 4px; cursor: default; }
li.ok { border-color: #2f9e44; background: #ebfbee; }
li.no { border-color: #e03131; background: #fff5f5; }
li .n { display: inline-block; min-width: 1.4em; font-weight: 700; }
.meta { font-size: 12px; color: #56616c; margin-top: 2px; }
.seg { padding: 6px 8px; border-bottom: 1px solid #e9ecef; }
.who { font-size: 12px; color: #56616c; font-weight: 600; }
.t { font-weight: 400; }
mark.ev { background: #b2f2bb; border-radius: 3px; padding: 0 2px; }
mark.ev.weak { background: #ffd8a8; }
mark.hot { outline: 2px solid #1c7ed6; }
sup { font-size: 10px; color: #1c7ed6; margin-left: 2px; }
</style></head>
<body><header><strong>${esc(title)}</strong> · ${supported} of ${result.sentences.length} summary sentences supported (threshold ${result.threshold.toFixed(2)})</header>
<main><section><h2>Summary</h2><ol>
${summary}
</ol></section><section><h2>Source</h2>
${source}
</section></main>
<script>
for (const li of document.querySelectorAll('li[data-i]')) {
  const marks = () => document.querySelectorAll('mark[data-s~="' + li.dataset.i + '"]');
  li.addEventListener('mouseenter', () => marks().forEach((m) => m.classList.add('hot')));
  li.addEventListener('mouseleave', () => marks().forEach((m) => m.classList.remove('hot')));
}
</script></body></html>
`;
}
