import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMlpModel } from '../../scripts/lib/mlp-model.js';
import { buildAddConstantModel, buildSlowIdentityModel } from '../../scripts/lib/test-models.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { eventually } from '../helpers/eventually.js';
import { metricValue, scrape } from '../helpers/metric-value.js';
import { Prng } from '../helpers/prng.js';
import { buildInferRequest, httpRequest, infer, outputValues, type InferRequest, type InferResponse } from '../helpers/v2-client.js';

const mlp = (seed: number) => buildMlpModel({ features: 32, hidden: [16], classes: 4, seed });
const row = (values: number[], extra: Partial<InferRequest> = {}): InferRequest => ({
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 32], data: values }],
  outputs: [{ name: 'probabilities' }],
  ...extra,
});
const json = { 'content-type': 'application/json' };

async function putTraffic(url: string, model: string, policy: object): Promise<void> {
  const res = await httpRequest(`${url}/v2/admin/models/${model}/traffic`, 'PUT', JSON.stringify(policy), json);
  assert.equal(res.status, 200, res.body.toString());
}

/** Runs `n` calls with at most `concurrency` in flight. */
async function pool<T>(n: number, concurrency: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await call(i);
    }
  }));
  return out;
}

function top1(res: InferResponse): number {
  const p = outputValues(res.outputs.get('probabilities')!) as number[];
  return p.indexOf(Math.max(...p));
}

test('routing: weighted split, stickiness, shadow agreement, explicit versions bypass', async (t) => {
  const repo = await tempRepo(t, {
    cls: { config: { name: 'cls', max_batch_size: 16, version_policy: { all: {} }, dynamic_batching: {} }, versions: { 1: mlp(1), 2: mlp(2) } },
    twin: { config: { name: 'twin', max_batch_size: 16, version_policy: { all: {} } }, versions: { 1: mlp(7), 2: mlp(7) } },
  });
  const { url } = await startServer(t, repo);
  const prng = new Prng(9);
  const rand = () => prng.next();
  const input = () => Array.from({ length: 32 }, () => rand() * 4 - 2);

  await t.test('routing: a 90/10 split holds within ±3% over 10,000 requests', async () => {
    await putTraffic(url, 'cls', { split: { targets: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }] } });
    const x = input();
    const versions = await pool(10_000, 32, async (i) => {
      const res = await infer(url, 'cls', row(x, { parameters: { routing_key: `user-${i}` } }));
      assert.equal(res.status, 200, res.jsonText);
      return res.json.model_version;
    });
    const share2 = versions.filter((v) => v === '2').length / versions.length;
    t.diagnostic(`90/10 split over ${versions.length} keyed requests: version 2 answered ${(share2 * 100).toFixed(2)}%`);
    assert.ok(Math.abs(share2 - 0.1) <= 0.03, `version 2 got ${(share2 * 100).toFixed(2)}% of the traffic`);
    const text = await scrape(url);
    const routed = metricValue(text, 'modelplane_routing_requests_total', { model: 'cls', route: 'split', outcome: 'success' });
    assert.ok(routed >= 10_000, `split decisions are counted (${routed})`);
  });

  await t.test('routing: one routing key always gets one version (header or parameter)', async () => {
    await putTraffic(url, 'cls', { split: { targets: [{ version: 1, weight: 50 }, { version: 2, weight: 50 }] } });
    const x = input();
    const byKey = new Map<string, Set<string>>();
    await pool(300, 16, async (i) => {
      const key = `k${i % 60}`;
      const wire = buildInferRequest(row(x));
      const viaHeader = i % 2 === 0;
      const res = viaHeader
        ? await httpRequest(`${url}/v2/models/cls/infer`, 'POST', wire.body, { ...wire.headers, 'x-routing-key': key })
        : await httpRequest(`${url}/v2/models/cls/infer`, 'POST', JSON.stringify(row(x, { parameters: { routing_key: key } })), json);
      assert.equal(res.status, 200);
      const version = (JSON.parse(res.body.toString()) as { model_version: string }).model_version;
      byKey.set(key, (byKey.get(key) ?? new Set()).add(version));
    });
    assert.equal(byKey.size, 60);
    for (const [key, seen] of byKey) assert.equal(seen.size, 1, `key ${key} saw versions ${[...seen].join(', ')}`);
    const both = new Set([...byKey.values()].map((s) => [...s][0]));
    assert.deepEqual([...both].sort(), ['1', '2'], 'the keys spread over both versions');
  });

  await t.test('routing: an explicit version bypasses the policy', async () => {
    await putTraffic(url, 'cls', { split: { targets: [{ version: 2, weight: 1 }] } });
    assert.equal((await infer(url, 'cls', row(input()))).json.model_version, '2');
    assert.equal((await infer(url, 'cls', row(input()), 1)).json.model_version, '1');
  });

  await t.test('routing: shadow mirrors to the candidate and counts agreement of top-1', async () => {
    await putTraffic(url, 'cls', {
      split: { targets: [{ version: 1, weight: 1 }] },
      shadow: { target: { version: 2 }, percent: 100, output: 'probabilities', compare: 'top1' },
    });
    const before = await scrape(url);
    const base = (result: string) => metricValue(before, 'modelplane_routing_shadow_requests_total', { model: 'cls', version: '2', result });
    const inputs = Array.from({ length: 60 }, input);
    let expectedAgree = 0;
    for (const x of inputs) {
      const a = await infer(url, 'cls', row(x), 1);
      const b = await infer(url, 'cls', row(x), 2);
      if (top1(a) === top1(b)) expectedAgree++;
    }
    assert.ok(expectedAgree > 0 && expectedAgree < inputs.length, `the versions agree on some inputs only (${expectedAgree}/60)`);
    for (const x of inputs) {
      const res = await infer(url, 'cls', { inputs: row(x).inputs, outputs: [{ name: 'label' }] });
      assert.equal(res.json.model_version, '1', 'only the primary answers');
      assert.deepEqual([...res.outputs.keys()], ['label'], 'the response carries what was asked, not the compared output');
    }
    const text = await eventually(async () => {
      const s = await scrape(url);
      const done = ['agree', 'disagree'].reduce((n, r) => n + metricValue(s, 'modelplane_routing_shadow_requests_total', { model: 'cls', version: '2', result: r }) - base(r), 0);
      return done === inputs.length ? s : undefined;
    }, 'every mirror recorded');
    assert.equal(metricValue(text, 'modelplane_routing_shadow_requests_total', { model: 'cls', version: '2', result: 'agree' }) - base('agree'), expectedAgree);
    assert.ok(metricValue(text, 'modelplane_routing_shadow_duration_seconds_count', { model: 'cls', version: '2' }) >= inputs.length, 'candidate latency recorded');
  });

  await t.test('routing: cosine agreement for embeddings (identical weights agree)', async () => {
    await putTraffic(url, 'twin', {
      split: { targets: [{ version: 1, weight: 1 }] },
      shadow: { target: { version: 2 }, percent: 100, output: 'logits', compare: 'cosine', cosine_threshold: 0.999 },
    });
    for (let i = 0; i < 10; i++) assert.equal((await infer(url, 'twin', row(input()))).status, 200);
    await eventually(async () => metricValue(await scrape(url), 'modelplane_routing_shadow_requests_total', { model: 'twin', version: '2', result: 'agree' }) === 10, 'cosine agreement recorded');
  });

  await t.test('routing: admin policy validation names the field; GET shows the source', async () => {
    const bad = await httpRequest(`${url}/v2/admin/models/cls/traffic`, 'PUT', JSON.stringify({ split: { targets: [{ version: 0, weight: 1 }] } }), json);
    assert.equal(bad.status, 400);
    assert.match(bad.body.toString(), /split\.targets\.0\.version/);
    const unknown = await httpRequest(`${url}/v2/admin/models/nope/traffic`, 'GET');
    assert.equal(unknown.status, 404);
    const del = await httpRequest(`${url}/v2/admin/models/cls/traffic`, 'DELETE');
    assert.equal((JSON.parse(del.body.toString()) as { source: string }).source, 'none');
    assert.equal((await infer(url, 'cls', row(input()))).json.model_version, '2', 'no policy: the highest READY version');
  });
});

test('routing: fallback answers when the primary fails, times out, and marks the response', async (t) => {
  const repo = await tempRepo(t, {
    primary: { config: { name: 'primary', traffic: { fallback: { chain: [{ model: 'backup' }] } } }, versions: { 1: buildAddConstantModel(1) } },
    backup: { versions: { 1: buildAddConstantModel(100) } },
    slow: {
      config: { name: 'slow', instance_count: 1, traffic: { fallback: { timeout_ms: 1, chain: [{ model: 'backup', timeout_ms: 0 }] } } },
      versions: { 1: buildSlowIdentityModel(1024) },
    },
  });
  const { url } = await startServer(t, repo, { app: { modelControlMode: 'explicit' } });
  const x: InferRequest = { inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] };

  const healthy = await infer(url, 'primary', x);
  assert.deepEqual(outputValues(healthy.outputs.get('y')!), [2, 3, 4, 5]);
  assert.equal(healthy.json.parameters, undefined, 'a normal answer is not marked');

  const unload = await httpRequest(`${url}/v2/repository/models/primary/unload`, 'POST');
  assert.equal(unload.status, 200);
  const res = await infer(url, 'primary', x);
  assert.equal(res.status, 200, res.jsonText);
  assert.equal(res.json.model_name, 'backup');
  assert.deepEqual(outputValues(res.outputs.get('y')!), [101, 102, 103, 104]);
  assert.deepEqual(res.json.parameters, { route: 'fallback', fallback_from: 'primary', fallback_reason: 'MP_MODEL_NOT_READY', fallback_step: 1 });

  const timedOut = await infer(url, 'slow', x);
  assert.equal(timedOut.status, 200, timedOut.jsonText);
  assert.equal(timedOut.json.model_name, 'backup');
  assert.equal(timedOut.json.parameters?.fallback_reason, 'timeout');

  const bad = await infer(url, 'primary', { inputs: [{ name: 'zz', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] });
  assert.equal(bad.status, 400, 'a request the fallback refuses as malformed is the client\'s error, not a fallback');
  assert.match(bad.json.error ?? '', /zz/);

  const text = await scrape(url);
  assert.equal(metricValue(text, 'modelplane_routing_fallbacks_total', { model: 'primary', to: 'backup', reason: 'MP_MODEL_NOT_READY' }) >= 1, true);
  assert.equal(metricValue(text, 'modelplane_routing_fallbacks_total', { model: 'slow', to: 'backup', reason: 'timeout' }), 1);
  assert.ok(metricValue(text, 'modelplane_routing_requests_total', { model: 'primary', version: 'backup:1', route: 'fallback', outcome: 'success' }) >= 1);
});

test('routing: a cascade escalates exactly the low-confidence inputs', async (t) => {
  const repo = await tempRepo(t, {
    cheap: { config: { name: 'cheap', max_batch_size: 8 }, versions: { 1: mlp(31) } },
    big: { config: { name: 'big', max_batch_size: 8 }, versions: { 1: mlp(32) } },
  });
  const { url } = await startServer(t, repo);
  const prng = new Prng(4);
  const rand = () => prng.next();
  const inputs = Array.from({ length: 40 }, () => Array.from({ length: 32 }, () => rand() * 2 - 1));
  const tops: number[] = [];
  for (const x of inputs) {
    const res = await infer(url, 'cheap', row(x), 1);
    tops.push(Math.max(...(outputValues(res.outputs.get('probabilities')!) as number[])));
  }
  const threshold = [...tops].sort((a, b) => a - b)[Math.floor(tops.length / 2)]!;
  await putTraffic(url, 'cheap', { cascade: { output: 'probabilities', threshold, steps: [{ cost: 1 }, { model: 'big', cost: 10 }] } });
  let escalated = 0;
  for (let i = 0; i < inputs.length; i++) {
    const res = await infer(url, 'cheap', { inputs: row(inputs[i]!).inputs, outputs: [{ name: 'label' }] });
    assert.equal(res.status, 200, res.jsonText);
    const expectBig = tops[i]! < threshold;
    assert.equal(res.json.model_name, expectBig ? 'big' : 'cheap', `input ${i}: top score ${tops[i]} vs threshold ${threshold}`);
    if (expectBig) escalated++;
  }
  assert.ok(escalated > 0 && escalated < inputs.length);
  const text = await scrape(url);
  assert.equal(metricValue(text, 'modelplane_routing_cascade_requests_total', { model: 'cheap', escalated: 'true' }), escalated);
  assert.equal(metricValue(text, 'modelplane_routing_cascade_requests_total', { model: 'cheap', escalated: 'false' }), inputs.length - escalated);
  const spent = metricValue(text, 'modelplane_routing_cascade_cost_units_total', { model: 'cheap', kind: 'spent' });
  const baseline = metricValue(text, 'modelplane_routing_cascade_cost_units_total', { model: 'cheap', kind: 'baseline' });
  assert.equal(spent, inputs.length * 1 + escalated * 10);
  assert.equal(baseline, inputs.length * 10);
});

test('routing: an alias splits traffic between models, sticky per key, and is refused without model targets', async (t) => {
  const repo = await tempRepo(t, {
    'cls-a': { config: { name: 'cls-a', max_batch_size: 8 }, versions: { 1: mlp(41) } },
    'cls-b': { config: { name: 'cls-b', max_batch_size: 8 }, versions: { 1: mlp(42) } },
  });
  const { url } = await startServer(t, repo);
  const x = Array.from({ length: 32 }, (_, i) => i / 32);
  const refused = await httpRequest(`${url}/v2/admin/models/classifier/traffic`, 'PUT', JSON.stringify({ split: { targets: [{ version: 1, weight: 1 }] } }), json);
  assert.equal(refused.status, 404);
  assert.match(refused.body.toString(), /alias policy/);
  await putTraffic(url, 'classifier', {
    split: { targets: [{ model: 'cls-a', weight: 50 }, { model: 'cls-b', weight: 50 }] },
    fallback: { chain: [{ model: 'cls-a' }] },
  });
  const byKey = new Map<string, Set<string>>();
  await pool(200, 8, async (i) => {
    const key = `u${i % 40}`;
    const res = await infer(url, 'classifier', row(x, { parameters: { routing_key: key } }));
    assert.equal(res.status, 200, res.jsonText);
    byKey.set(key, (byKey.get(key) ?? new Set()).add(res.json.model_name));
  });
  for (const [key, names] of byKey) assert.equal(names.size, 1, `${key} saw ${[...names].join(', ')}`);
  assert.deepEqual([...new Set([...byKey.values()].map((s) => [...s][0]))].sort(), ['cls-a', 'cls-b']);
  const got = await httpRequest(`${url}/v2/admin/models/classifier/traffic`, 'GET');
  assert.equal((JSON.parse(got.body.toString()) as { source: string }).source, 'alias');
  assert.equal((await httpRequest(`${url}/v2/admin/models/classifier/traffic`, 'DELETE')).status, 200);
  assert.equal((await infer(url, 'classifier', row(x))).status, 404, 'a deleted alias is gone');
});
