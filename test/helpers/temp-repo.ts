import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Something with node:test's `after`: a TestContext, or a stand-in in scripts. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

export interface TempModel {
  /** Written as config.json (object) or verbatim (string, e.g. broken JSON); omitted = no config file. */
  config?: object | string;
  /** Written as config.yaml instead of config.json. */
  configYaml?: string;
  /** Version number -> model file bytes. */
  versions: Record<number, Uint8Array>;
  /** File name inside each version directory; model.onnx unless given. */
  filename?: string;
}

/** Writes a temporary Triton-layout repository `<dir>/<model>/<version>/model.onnx` and removes it after the test. */
export async function tempRepo(t: Cleanup, models: Record<string, TempModel>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mp-repo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, model] of Object.entries(models)) {
    const modelDir = join(dir, name);
    await mkdir(modelDir, { recursive: true });
    if (model.config !== undefined) {
      const text = typeof model.config === 'string' ? model.config : JSON.stringify(model.config, null, 2);
      await writeFile(join(modelDir, 'config.json'), text);
    }
    if (model.configYaml !== undefined) await writeFile(join(modelDir, 'config.yaml'), model.configYaml);
    for (const [version, bytes] of Object.entries(model.versions)) {
      await mkdir(join(modelDir, version), { recursive: true });
      await writeFile(join(modelDir, version, model.filename ?? 'model.onnx'), bytes);
    }
  }
  return dir;
}
