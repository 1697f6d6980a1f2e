/** A dependency-free line chart: one panel per metric, x on a log2 scale, one line per series. */
export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];

export function linePanels(title: string, panels: Array<{ label: string; series: Series[]; logY?: boolean }>): string {
  const w = 420;
  const h = 300;
  const m = { l: 64, r: 12, t: 40, b: 44 };
  const parts: string[] = [];
  panels.forEach((panel, pi) => {
    const ox = pi * w;
    const xs = panel.series.flatMap((s) => s.points.map((p) => p.x));
    const ys = panel.series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y) && y > 0);
    const xMin = Math.log2(Math.min(...xs));
    const xMax = Math.log2(Math.max(...xs));
    const yMaxRaw = Math.max(...ys);
    const yMinRaw = Math.min(...ys);
    const ly = (y: number) => (panel.logY ? Math.log10(y) : y);
    const yMin = panel.logY ? Math.floor(Math.log10(yMinRaw)) : 0;
    const yMax = panel.logY ? Math.ceil(Math.log10(yMaxRaw)) : yMaxRaw * 1.1;
    const px = (x: number) => ox + m.l + ((Math.log2(x) - xMin) / Math.max(1e-9, xMax - xMin)) * (w - m.l - m.r);
    const py = (y: number) => m.t + (1 - (ly(y) - yMin) / Math.max(1e-9, yMax - yMin)) * (h - m.t - m.b);
    parts.push(`<text x="${ox + w / 2}" y="24" text-anchor="middle" font-size="14">${panel.label}</text>`);
    parts.push(`<line x1="${ox + m.l}" y1="${h - m.b}" x2="${ox + w - m.r}" y2="${h - m.b}" stroke="#444"/>`);
    parts.push(`<line x1="${ox + m.l}" y1="${m.t}" x2="${ox + m.l}" y2="${h - m.b}" stroke="#444"/>`);
    for (const x of [...new Set(xs)]) {
      parts.push(`<text x="${px(x)}" y="${h - m.b + 16}" text-anchor="middle" font-size="11">${x}</text>`);
    }
    parts.push(`<text x="${ox + w / 2}" y="${h - 6}" text-anchor="middle" font-size="11">client concurrency</text>`);
    const ticks = panel.logY ? Array.from({ length: yMax - yMin + 1 }, (_, i) => 10 ** (yMin + i)) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
    for (const t of ticks) {
      const y = panel.logY ? py(t) : m.t + (1 - t / yMax) * (h - m.t - m.b);
      parts.push(`<text x="${ox + m.l - 6}" y="${y + 4}" text-anchor="end" font-size="10">${t >= 100 ? Math.round(t) : +t.toPrecision(2)}</text>`);
      parts.push(`<line x1="${ox + m.l}" y1="${y}" x2="${ox + w - m.r}" y2="${y}" stroke="#eee"/>`);
    }
    panel.series.forEach((s, si) => {
      const pts = s.points.filter((p) => Number.isFinite(p.y) && p.y > 0);
      const color = COLORS[si % COLORS.length];
      parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
      for (const p of pts) parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2.5" fill="${color}"/>`);
      parts.push(`<rect x="${ox + m.l + 8}" y="${m.t + 4 + si * 14}" width="10" height="3" fill="${color}"/><text x="${ox + m.l + 22}" y="${m.t + 9 + si * 14}" font-size="10">${s.name}</text>`);
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w * panels.length}" height="${h + 20}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>` +
    `<text x="8" y="${h + 14}" font-size="11" fill="#555">${title}</text>${parts.join('')}</svg>`;
}
