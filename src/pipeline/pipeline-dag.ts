import { MpError } from '../errors.js';
import type { PipelineDefinition, StepDefinition } from './pipeline-definition.js';

/** One step placed in the DAG. */
export interface PlannedStep {
  readonly def: StepDefinition;
  readonly deps: readonly string[];
  /** null: runs once per run. Otherwise the fan-out step whose items this step runs once per. */
  readonly scope: string | null;
  /** Steps nothing depends on: their outputs make up the run's result. */
  readonly sink: boolean;
}

/** A validated DAG in topological order. */
export interface PipelinePlan {
  readonly definition: PipelineDefinition;
  readonly steps: readonly PlannedStep[];
  readonly byName: ReadonlyMap<string, PlannedStep>;
}

/**
 * Validates the step graph and works out where each step runs:
 *
 *   read (fanOut) ──► normalise ──► classify ──► summary (join)
 *   scope: null        scope: read   scope: read   scope: null
 *
 * Rules: names unique; deps exist; no cycles; a step's deps share one fan-out scope (run-level deps may feed
 * any scope); fan-out does not nest; a join step needs a dep inside a fan-out scope.
 */
export function planPipeline(def: PipelineDefinition): PipelinePlan {
  const where = `pipeline '${def.name}'`;
  const defs = new Map<string, StepDefinition>();
  const deps = new Map<string, string[]>();
  def.steps.forEach((s, i) => {
    if (defs.has(s.name)) throw new MpError('MP_CONFIG_INVALID', `${where}: step '${s.name}' is defined twice`);
    defs.set(s.name, s);
    const prev = i > 0 ? def.steps[i - 1]?.name : undefined;
    deps.set(s.name, s.after ? [...s.after] : prev !== undefined ? [prev] : []);
  });
  for (const [name, ds] of deps) {
    for (const d of ds) {
      if (!defs.has(d)) throw new MpError('MP_CONFIG_INVALID', `${where}: step '${name}' runs after unknown step '${d}'`);
      if (d === name) throw new MpError('MP_CONFIG_INVALID', `${where}: step '${name}' depends on itself`);
    }
  }
  const order = topoOrder(where, [...defs.keys()], deps);
  const scopes = new Map<string, string | null>();
  const planned: PlannedStep[] = [];
  for (const name of order) {
    const s = defs.get(name)!;
    const ds = deps.get(name)!;
    const depScopes = new Set<string>();
    for (const d of ds) {
      const ds2 = defs.get(d)!.fanOut ? d : scopes.get(d)!;
      if (ds2 !== null) depScopes.add(ds2);
    }
    if (depScopes.size > 1) {
      throw new MpError('MP_CONFIG_INVALID', `${where}: step '${name}' mixes items of fan-outs ${[...depScopes].map((x) => `'${x}'`).join(' and ')}`);
    }
    const inner = depScopes.size === 1 ? [...depScopes][0]! : null;
    if (s.join && inner === null) throw new MpError('MP_CONFIG_INVALID', `${where}: join step '${name}' does not follow a fan-out`);
    const scope = s.join ? null : inner;
    if (s.fanOut && scope !== null) {
      throw new MpError('MP_CONFIG_INVALID', `${where}: fan-out step '${name}' is inside fan-out '${scope}'; nested fan-out is not supported`);
    }
    scopes.set(name, scope);
    planned.push({ def: s, deps: ds, scope, sink: false });
  }
  const used = new Set<string>();
  for (const ds of deps.values()) for (const d of ds) used.add(d);
  const steps = planned.map((p) => ({ ...p, sink: !used.has(p.def.name) }));
  return { definition: def, steps, byName: new Map(steps.map((p) => [p.def.name, p])) };
}

function topoOrder(where: string, names: string[], deps: Map<string, string[]>): string[] {
  const state = new Map<string, 1 | 2>(); // 1 visiting, 2 done
  const out: string[] = [];
  const visit = (n: string, path: string[]): void => {
    const st = state.get(n);
    if (st === 2) return;
    if (st === 1) throw new MpError('MP_CONFIG_INVALID', `${where}: steps form a cycle: ${[...path, n].join(' -> ')}`);
    state.set(n, 1);
    for (const d of deps.get(n) ?? []) visit(d, [...path, n]);
    state.set(n, 2);
    out.push(n);
  };
  for (const n of names) visit(n, []);
  return out;
}
