import { ERRORS, MpError, type ErrorCode } from '../errors.js';
import { elementCount, isDataType } from '../tensor/datatype.js';
import { decodeBinaryData, encodeBinaryData } from '../tensor/binary-codec.js';
import type { TensorMap } from '../tensor/tensor.js';
import type { ModelInvoker } from './model-invoker.js';

interface V2Output { name: string; datatype: string; shape: number[]; parameters?: { binary_data_size?: number } }

/**
 * Model steps for workers in other processes or machines: the KServe v2 binary protocol against a
 * running Modelplane server, so their inferences batch with the server's online traffic.
 */
export class HttpModelInvoker implements ModelInvoker {
  private readonly base: string;

  constructor(baseUrl: string, private readonly timeoutMs = 60_000) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async infer(model: string, inputs: TensorMap, options?: { version?: string; outputs?: readonly string[] }): Promise<TensorMap> {
    const chunks: Buffer[] = [];
    const header = {
      inputs: [...inputs.values()].map((t) => {
        const chunk = encodeBinaryData(t.datatype, t.data);
        chunks.push(chunk);
        return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: chunk.byteLength } };
      }),
      parameters: { binary_data_output: true },
      ...(options?.outputs ? { outputs: options.outputs.map((name) => ({ name, parameters: { binary_data: true } })) } : {}),
    };
    const head = Buffer.from(JSON.stringify(header));
    const path = options?.version ? `/v2/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(options.version)}/infer` : `/v2/models/${encodeURIComponent(model)}/infer`;
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.byteLength) },
        body: Buffer.concat([head, ...chunks]),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new MpError('MP_BACKEND', `model '${model}' at ${this.base}: ${(err as Error).message}`, { cause: err });
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) {
      let message = body.toString('utf8');
      try {
        message = (JSON.parse(message) as { error?: string }).error ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new MpError(codeFor(res.status), `model '${model}' at ${this.base}: ${message}`);
    }
    const headerLength = Number(res.headers.get('inference-header-content-length') ?? body.byteLength);
    const json = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { outputs: V2Output[] };
    const out: TensorMap = new Map();
    let offset = headerLength;
    for (const o of json.outputs) {
      const size = o.parameters?.binary_data_size;
      if (!isDataType(o.datatype) || size === undefined) throw new MpError('MP_BACKEND', `model '${model}': unexpected output '${o.name}'`);
      const chunk = Buffer.from(body.subarray(offset, offset + size)); // own copy: aligned, and outlives the body
      offset += size;
      out.set(o.name, { name: o.name, datatype: o.datatype, shape: o.shape, data: decodeBinaryData(o.name, o.datatype, elementCount(o.shape), chunk) });
    }
    return out;
  }
}

function codeFor(status: number): ErrorCode {
  // The server's status maps back to the first code with that status (429 -> MP_OVERLOADED, 503 -> not ready).
  const match = (Object.entries(ERRORS) as Array<[ErrorCode, number]>).find(([, s]) => s === status);
  return match ? match[0] : 'MP_BACKEND';
}
