import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipelineDefinition, type PipelineInput } from '../../../src/pipeline/pipeline-definition.js';
import { planPipeline } from '../../../src/pipeline/pipeline-dag.js';
import { definePipeline } from '../../../src/pipeline/pipeline-registry.js';
import { MpError } from '../../../src/errors.js';

const plan = (steps: PipelineInput['steps']) => planPipeline(parsePipelineDefinition({ name: 'p', steps }));

function rejects(steps: PipelineInput['steps'], pattern: RegExp): void {
  assert.throws(() => plan(steps), (err: unknown) => err instanceof MpError && err.code === 'MP_CONFIG_INVALID' && pattern.test(err.message));
}

test('pipeline dag: steps default to running after the previous one and sinks are found', () => {
  const p = plan([{ name: 'a', function: 'f' }, { name: 'b', function: 'f' }, { name: 'c', function: 'f', after: ['a'] }]);
  assert.deepEqual(p.steps.map((s) => [s.def.name, s.deps, s.sink]), [['a', [], false], ['b', ['a'], true], ['c', ['a'], true]]);
});

test('pipeline dag: places steps after a fan-out in its scope until a join', () => {
  const p = plan([
    { name: 'read', function: 'f', fanOut: true },
    { name: 'norm', function: 'f' },
    { name: 'model', model: 'm', after: ['norm'] },
    { name: 'sum', function: 'f', join: true },
  ]);
  assert.deepEqual(p.steps.map((s) => [s.def.name, s.scope]), [['read', null], ['norm', 'read'], ['model', 'read'], ['sum', null]]);
});

test('pipeline dag: rejects cycles, unknown deps, duplicates, nested fan-out, joins without fan-out and mixed scopes', () => {
  rejects([{ name: 'a', function: 'f', after: ['b'] }, { name: 'b', function: 'f', after: ['a'] }], /cycle: .*a -> b -> a|cycle: .*b -> a -> b/);
  rejects([{ name: 'a', function: 'f', after: ['zzz'] }], /unknown step 'zzz'/);
  rejects([{ name: 'a', function: 'f' }, { name: 'a', function: 'f' }], /defined twice/);
  rejects([{ name: 'a', function: 'f', fanOut: true }, { name: 'b', function: 'f', fanOut: true }], /nested fan-out/);
  rejects([{ name: 'a', function: 'f' }, { name: 'b', function: 'f', join: true }], /does not follow a fan-out/);
  rejects([
    { name: 'a', function: 'f', fanOut: true },
    { name: 'b', function: 'f', fanOut: true, after: [] },
    { name: 'c', function: 'f', after: ['a', 'b'] },
  ], /mixes items of fan-outs/);
});

test('pipeline definition: a bad field is named in the error', () => {
  assert.throws(() => parsePipelineDefinition({ name: 'p', steps: [{ name: 'a', function: 'f', timeoutMs: -1 }] }), /steps\.0\.timeoutMs/);
  assert.throws(() => parsePipelineDefinition({ name: 'p', steps: [{ name: 'a' }] }), /exactly one of 'function' or 'model'/);
  assert.throws(() => parsePipelineDefinition({ name: 'p', steps: [{ name: 'a', function: 'f', typo: 1 }] }), /typo/);
  assert.throws(() => parsePipelineDefinition({ name: 'p', maxQueued: 0, steps: [{ name: 'a', function: 'f' }] }), /maxQueued/);
  assert.throws(() => parsePipelineDefinition({ name: 'p', keepFinished: { completedMs: -1 }, steps: [{ name: 'a', function: 'f' }] }), /keepFinished\.completedMs/);
});

test('pipeline definition: finished runs are kept a day (dead ones a week) unless told otherwise', () => {
  const def = parsePipelineDefinition({ name: 'p', keepFinished: { deadMs: null }, steps: [{ name: 'a', function: 'f' }] });
  assert.deepEqual(def.keepFinished, { completedMs: 86_400_000, cancelledMs: 86_400_000, deadMs: null });
  assert.deepEqual(parsePipelineDefinition({ name: 'p', steps: [{ name: 'a', function: 'f' }] }).keepFinished, { completedMs: 86_400_000, cancelledMs: 86_400_000, deadMs: 604_800_000 });
});

test('pipeline builder: builds the same definition the JSON form parses to', () => {
  const built = definePipeline('texts', { maxQueued: 5 })
    .step('read', () => [1, 2], { fanOut: true })
    .model('classify', 'mlp-classifier', { outputs: ['label'] })
    .step('sum', () => 0, { join: true })
    .build();
  const def = parsePipelineDefinition(built.definition);
  assert.equal(def.maxQueued, 5);
  assert.deepEqual(def.steps.map((s) => s.function ?? s.model), ['texts.read', 'mlp-classifier', 'texts.sum']);
  assert.deepEqual([...built.functions.keys()], ['texts.read', 'texts.sum']);
  assert.throws(() => definePipeline('bad').step('j', () => 0, { join: true }).build(), /does not follow a fan-out/);
});
