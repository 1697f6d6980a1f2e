import { createRequire } from 'node:module';

interface LazyModule<T> { (): Promise<{ default: T }> }
interface NsfwModelDefinition { modelJson: LazyModule<object>; weightBundles: Array<LazyModule<string>> }

/**
 * The nsfwjs@4.3.0 MobileNetV2 (5 content-safety classes), which the package ships as JS modules
 * (the model.json object and a base64 weight shard), as a TF.js model.json and its weight bytes.
 */
export async function nsfwMobileNetV2(): Promise<{ modelJson: object; weights: Uint8Array }> {
  const { MobileNetV2Model } = createRequire(import.meta.url)('nsfwjs/models/mobilenet_v2') as { MobileNetV2Model: NsfwModelDefinition };
  const modelJson = (await MobileNetV2Model.modelJson()).default;
  const shards = await Promise.all(MobileNetV2Model.weightBundles.map(async (b) => Buffer.from((await b()).default, 'base64')));
  return { modelJson, weights: Buffer.concat(shards) };
}

/** nsfwjs's class names, in output order. */
export const NSFW_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
