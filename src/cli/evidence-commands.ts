import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { MpError } from '../errors.js';
import { renderEvidenceHtml } from '../search/evidence/evidence-html.js';
import { EvidenceLinker } from '../search/evidence/evidence-linker.js';
import type { LinkResult } from '../search/evidence/evidence-schema.js';
import { UseLiteEmbedder } from '../search/use-lite-embedder.js';

/** A source file: JSON segments (`[...]` or `{segments: [...]}`) or plain text ("Speaker: ..." lines become turns). */
async function readSource(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  if (extname(file).toLowerCase() !== '.json') return { text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MpError('MP_INVALID_ARG', `--source ${file}: not JSON: ${(err as Error).message}`);
  }
  return Array.isArray(parsed) ? { segments: parsed } : parsed;
}

function describe(result: LinkResult): string {
  const lines: string[] = [];
  for (const s of result.sentences) {
    lines.push(`${s.supported ? '✓' : '✗'} ${s.score.toFixed(2)}  ${s.index + 1}. ${s.text}`);
    for (const e of s.evidence.slice(0, 1)) {
      const when = e.startTime !== null ? ` @${e.startTime.toFixed(1)}s` : '';
      lines.push(`      ← [${e.segmentIds.join('+')}${e.speakers.length ? ` ${e.speakers.join('/')}` : ''}${when}] ${e.spans.map((sp) => sp.text).join(' … ')}`);
    }
  }
  const n = result.sentences.filter((s) => s.supported).length;
  lines.push(`${n} of ${result.sentences.length} sentences supported (threshold ${result.threshold.toFixed(2)}, ${result.timing.totalMs.toFixed(0)} ms)`);
  return `${lines.join('\n')}\n`;
}

/** Registers `modelplane evidence link` (runs in this process with USE-lite; no server needed). */
export function registerEvidenceCommands(program: Command): void {
  const evidence = program.command('evidence').description('link summary sentences to the source spans that support them');
  evidence
    .command('link')
    .description('link every sentence of a summary to its evidence in a source transcript or document')
    .requiredOption('--source <file>', 'source: JSON segments [{id, speaker, start, end, text}] or a text file')
    .requiredOption('--summary <file>', 'summary text file')
    .option('--html <file>', 'also write the HTML view here')
    .option('--json', 'print the full result as JSON')
    .option('--top-k <n>', 'evidence items per sentence', '3')
    .action(async (o: { source: string; summary: string; html?: string; json?: boolean; topK: string }) => {
      const embedder = new UseLiteEmbedder();
      const linker = new EvidenceLinker(embedder);
      const summary = await readFile(o.summary, 'utf8');
      const result = await linker.link({ source: await readSource(o.source), summary, topK: Number(o.topK) }).finally(() => embedder.close());
      if (o.html) await writeFile(o.html, renderEvidenceHtml(result, `Evidence: ${o.summary}`));
      process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
    });
}
