import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { MpError } from '../errors.js';

interface UrlFlags {
  url: string;
}

/** One JSON call to a Modelplane server; a non-2xx answer becomes an MpError carrying the server's message. */
async function request(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new MpError('MP_INVALID_ARG', `cannot reach ${base}: ${(err as Error).message}`, { cause: err });
  }
  const text = await res.text();
  const parsed = text === '' ? null : (JSON.parse(text) as unknown);
  if (!res.ok) {
    const message = (parsed as { error?: string } | null)?.error ?? `HTTP ${res.status}`;
    throw new MpError(res.status === 404 ? 'MP_NOT_FOUND' : res.status === 409 ? 'MP_CONFLICT' : 'MP_INVALID_ARG', message);
  }
  return parsed;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function parseJsonFlag(value: string | undefined, flag: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw new MpError('MP_INVALID_ARG', `${flag}: not JSON: ${(err as Error).message}`);
  }
}

/** Reads documents from a JSON array file or a JSON-lines file (one document per line). */
async function readDocuments(file: string): Promise<unknown[]> {
  const text = (await readFile(file, 'utf8')).trim();
  if (text.startsWith('[')) return JSON.parse(text) as unknown[];
  return text.split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l) as unknown;
    } catch (err) {
      throw new MpError('MP_INVALID_ARG', `${file}:${i + 1}: not JSON: ${(err as Error).message}`);
    }
  });
}

const UPLOAD_BATCH = 256;

/** Registers `modelplane collections ...` (talking to a running server) on a commander program. */
export function registerSearchCommands(program: Command): void {
  const collections = program.command('collections').description('vector collections on a running server (/v1/collections)');
  const withUrl = (cmd: Command): Command => cmd.option('--url <url>', 'Modelplane server', 'http://127.0.0.1:8000');

  withUrl(collections.command('create <name>').description('create a collection'))
    .option('--model <model>', 'embedding model for texts (e.g. use-lite)')
    .option('--dimension <n>', 'vector dimension (without a model)')
    .option('--metric <metric>', 'cosine | l2 | ip', 'cosine')
    .action(async (name: string, o: UrlFlags & { model?: string; dimension?: string; metric: string }) => {
      print(await request(o.url, 'POST', '/v1/collections', { name, model: o.model, dimension: o.dimension === undefined ? undefined : Number(o.dimension), metric: o.metric }));
    });
  withUrl(collections.command('list').description('list collections')).action(async (o: UrlFlags) => print(await request(o.url, 'GET', '/v1/collections')));
  withUrl(collections.command('delete <name>').description('delete a collection')).action(async (name: string, o: UrlFlags) => {
    print(await request(o.url, 'DELETE', `/v1/collections/${encodeURIComponent(name)}`));
  });
  withUrl(collections.command('upsert <name>').description('upsert documents from a JSON array or JSON-lines file'))
    .requiredOption('--file <file>', 'documents: {id, text?, vector?, payload?}')
    .action(async (name: string, o: UrlFlags & { file: string }) => {
      const docs = await readDocuments(o.file);
      let upserted = 0;
      for (let s = 0; s < docs.length; s += UPLOAD_BATCH) {
        const r = (await request(o.url, 'POST', `/v1/collections/${encodeURIComponent(name)}/documents`, { documents: docs.slice(s, s + UPLOAD_BATCH) })) as { upserted: number };
        upserted += r.upserted;
      }
      print({ upserted });
    });
  withUrl(collections.command('search <name>').description('search by text (or --vector JSON)'))
    .option('--text <text>', 'query text')
    .option('--vector <json>', 'query vector as a JSON array')
    .option('--k <k>', 'results', '10')
    .option('--filter <json>', 'payload filter, e.g. {"lang":"en","year":{"gte":2020}}')
    .option('--mode <mode>', 'vector | text | hybrid')
    .action(async (name: string, o: UrlFlags & { text?: string; vector?: string; k: string; filter?: string; mode?: string }) => {
      const body = { text: o.text, vector: parseJsonFlag(o.vector, '--vector'), k: Number(o.k), filter: parseJsonFlag(o.filter, '--filter'), mode: o.mode };
      print(await request(o.url, 'POST', `/v1/collections/${encodeURIComponent(name)}/search`, body));
    });
  withUrl(collections.command('snapshot <name>').description('snapshot a collection')).action(async (name: string, o: UrlFlags) => {
    print(await request(o.url, 'POST', `/v1/collections/${encodeURIComponent(name)}/snapshots`));
  });
  withUrl(collections.command('restore <name> <snapshot>').description('replace a collection with one of its snapshots')).action(async (name: string, snapshot: string, o: UrlFlags) => {
    print(await request(o.url, 'POST', `/v1/collections/${encodeURIComponent(name)}/snapshots/${encodeURIComponent(snapshot)}/restore`));
  });
}
