import type { IncomingHttpHeaders } from 'node:http';

/** The key a sticky split hashes: header `X-Routing-Key`, else the request parameter `routing_key`. */
export function routingKey(headers: IncomingHttpHeaders, parameters: Readonly<Record<string, string | number | boolean>> | undefined): string | undefined {
  const header = headers['x-routing-key'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && fromHeader !== '') return fromHeader;
  const p = parameters?.routing_key;
  return p === undefined ? undefined : String(p);
}
