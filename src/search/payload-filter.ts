import { z } from 'zod';

/**
 * Payload filters, Mongo/Qdrant-like and deliberately small:
 * `{ "lang": "en", "year": { "gte": 2020, "lt": 2025 }, "tag": { "in": ["a", "b"] } }`.
 * Every key is a payload field (dots reach into objects); all conditions must hold. A value that is a
 * scalar means equality. Conditions compile to one SQL WHERE clause over the stored JSON payload.
 */
const FIELD = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/, 'a field path: name(.name)*');
const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const Condition = z
  .strictObject({
    eq: Scalar.optional(),
    ne: Scalar.optional(),
    gt: z.union([z.number(), z.string()]).optional(),
    gte: z.union([z.number(), z.string()]).optional(),
    lt: z.union([z.number(), z.string()]).optional(),
    lte: z.union([z.number(), z.string()]).optional(),
    in: z.array(Scalar).min(1).max(1000).optional(),
    exists: z.boolean().optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'a condition needs at least one of eq, ne, gt, gte, lt, lte, in, exists' });

export const FilterSchema = z
  .record(z.string(), z.union([Scalar, Condition]))
  .superRefine((f, ctx) => {
    for (const key of Object.keys(f)) {
      if (!FIELD.safeParse(key).success) ctx.addIssue({ code: 'custom', path: [key], message: 'not a field path: name(.name)*' });
    }
  });
export type PayloadFilter = z.output<typeof FilterSchema>;

export interface SqlFilter {
  readonly where: string;
  readonly params: (string | number)[];
}

const OPS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** Compiles a validated filter to `json_extract(<column>, path) ...` conditions joined by AND. */
export function compileFilter(filter: PayloadFilter, column = 'payload'): SqlFilter {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  const add = (sql: string, ...ps: (string | number)[]): void => {
    parts.push(sql);
    params.push(...ps);
  };
  for (const [field, cond] of Object.entries(filter)) {
    const path = '$.' + field.split('.').map((p) => `"${p}"`).join('.');
    const ex = `json_extract(${column}, ?)`;
    const value = (v: string | number | boolean): string | number => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
    if (typeof cond !== 'object') {
      add(`${ex} = ?`, path, value(cond));
      continue;
    }
    if (cond.eq !== undefined) add(`${ex} = ?`, path, value(cond.eq));
    if (cond.ne !== undefined) add(`(${ex} IS NULL OR ${ex} != ?)`, path, path, value(cond.ne));
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      const v = cond[op];
      if (v !== undefined) add(`${ex} ${OPS[op]} ?`, path, v);
    }
    if (cond.in !== undefined) {
      add(`${ex} IN (${cond.in.map(() => '?').join(', ')})`, path, ...cond.in.map(value));
    }
    if (cond.exists !== undefined) add(`json_type(${column}, ?) IS ${cond.exists ? 'NOT ' : ''}NULL`, path);
  }
  return { where: parts.length > 0 ? parts.join(' AND ') : '1', params };
}
