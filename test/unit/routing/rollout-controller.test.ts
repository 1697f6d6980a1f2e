import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RolloutController } from '../../../src/routing/rollout-controller.js';
import { RolloutStore } from '../../../src/routing/rollout-store.js';
import { TrafficRouter, type PolicySource } from '../../../src/routing/traffic-router.js';
import type { VersionStatus } from '../../../src/lifecycle/model-manager.js';

const silent = { info() {}, warn() {}, error() {} };
const versions: VersionStatus[] = [2, 1].map((version) => ({ model: 'm', version, state: 'READY', reason: undefined }));
const source: PolicySource = {
  configPolicy: () => undefined,
  resolve: () => {
    throw new Error('not used');
  },
};

function setup(t: { after(fn: () => unknown): void }) {
  let nowMs = 1_000_000;
  const store = new RolloutStore(':memory:');
  const router = new TrafficRouter(source);
  const rollouts = new RolloutController({ versionsOf: () => versions }, router, store, silent, undefined, () => nowMs);
  t.after(() => {
    rollouts.stop();
    store.close();
  });
  const advance = (ms: number) => {
    nowMs += ms;
  };
  const send = (n: number, ok = true, latencyMs = 1) => {
    for (let i = 0; i < n; i++) rollouts.sink.request('m', 'm', 2, 'split', ok, latencyMs / 1000);
  };
  return { rollouts, router, advance, send };
}

test('rollout controller: a step advances only after both its requests and its time', (t) => {
  const { rollouts, router, advance, send } = setup(t);
  rollouts.start('m', { candidate: 2, steps: [5, 50, 100], step_requests: 30, step_seconds: 60, slo: { min_samples: 10 } });
  assert.deepEqual(router.effective('m')?.split?.targets, [{ version: 1, weight: 95 }, { version: 2, weight: 5 }]);
  send(100);
  assert.equal(rollouts.status('m').current?.percent, 5, 'enough requests, not enough time');
  advance(59_000);
  send(1);
  assert.equal(rollouts.status('m').current?.percent, 5);
  advance(1_000);
  send(1);
  assert.equal(rollouts.status('m').current?.percent, 50, 'requests and time both reached');
  advance(120_000);
  send(29);
  assert.equal(rollouts.status('m').current?.percent, 50, 'the new step counts its own requests');
  send(1);
  assert.equal(rollouts.status('m').current?.percent, 100);
  advance(60_000);
  send(30);
  const done = rollouts.status('m');
  assert.equal(done.current, null);
  assert.equal(done.history[0]!.state, 'completed');
  assert.deepEqual(router.effective('m')?.split?.targets, [{ version: 1, weight: 0 }, { version: 2, weight: 100 }]);
});

test('rollout controller: errors below min_samples do not judge; a breach goes to 0% at once', (t) => {
  const { rollouts, router, send } = setup(t);
  rollouts.start('m', { candidate: 2, steps: [25, 100], step_requests: 1000, step_seconds: 0, slo: { max_error_rate: 0.2, min_samples: 10 } });
  send(3, false);
  assert.equal(rollouts.status('m').current?.state, 'running', 'three early errors are not yet a verdict');
  send(6, true);
  assert.equal(rollouts.status('m').current?.state, 'running');
  send(1, true); // 10 samples, 30% errors
  const r = rollouts.status('m').history[0]!;
  assert.equal(r.state, 'rolled_back');
  assert.match(r.reason ?? '', /error rate 0\.3000 > 0\.2 over 10/);
  assert.deepEqual(router.effective('m')?.split?.targets, [{ version: 1, weight: 100 }, { version: 2, weight: 0 }]);
});

test('rollout controller: p99 above the SLO rolls back; requests of other versions do not count', (t) => {
  const { rollouts, send } = setup(t);
  rollouts.start('m', { candidate: 2, steps: [50], step_requests: 1000, step_seconds: 0, slo: { max_p99_ms: 100, min_samples: 10 } });
  for (let i = 0; i < 50; i++) rollouts.sink.request('m', 'm', 1, 'split', false, 5);
  assert.equal(rollouts.status('m').current?.state, 'running', 'incumbent failures are not the candidate\'s');
  send(9, true, 10);
  send(1, true, 500);
  assert.equal(rollouts.status('m').history[0]!.state, 'rolled_back');
  assert.match(rollouts.status('m').history[0]!.reason ?? '', /p99 latency 500\.0 ms > 100 ms/);
});
