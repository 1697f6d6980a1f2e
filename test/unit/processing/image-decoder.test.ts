import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { ImageProcessingSchema } from '../../../src/config/image-processing-config.js';
import { MpError } from '../../../src/errors.js';
import { decodeImage } from '../../../src/processing/image/image-decoder.js';

const config = (overrides: object = {}) => ImageProcessingSchema.parse({ scale: 1, ...overrides });

/** A one-colour PNG; `channels` 1 writes a greyscale file. */
function solid(width: number, height: number, channels: 1 | 3 | 4, value: number[]): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: channels === 1 ? 3 : channels, background: { r: value[0]!, g: value[1] ?? value[0]!, b: value[2] ?? value[0]!, alpha: 1 } } });
  return (channels === 1 ? image.toColourspace('b-w') : image).png().toBuffer();
}

test('image decoder: RGB at the target size, scaled; grey and RGBA images become 3 channels', async () => {
  const rgb = await decodeImage(await solid(8, 6, 3, [10, 20, 30]), 4, 4, config({ scale: 0.5, offset: 1 }), 0, 'm');
  assert.equal(rgb.pixels.length, 4 * 4 * 3);
  assert.deepEqual(Array.from(rgb.pixels.slice(0, 3)), [6, 11, 16]);
  assert.deepEqual([rgb.originalWidth, rgb.originalHeight], [8, 6]);
  const greyPng = await solid(5, 5, 1, [100]);
  assert.equal((await sharp(greyPng).metadata()).channels, 1);
  const grey = await decodeImage(greyPng, 2, 2, config(), 0, 'm');
  assert.deepEqual(Array.from(grey.pixels.slice(0, 3)), [100, 100, 100]);
  const rgba = await decodeImage(await solid(5, 5, 4, [1, 2, 3]), 2, 2, config(), 0, 'm');
  assert.deepEqual(Array.from(rgba.pixels.slice(0, 3)), [1, 2, 3]);
});

test('image decoder: refuses non-images, too many bytes and too many pixels with MP_INVALID_ARG naming the row', async () => {
  const png = await solid(20, 20, 3, [0, 0, 0]);
  const cases: Array<[Uint8Array, object, RegExp]> = [
    [new TextEncoder().encode('not an image'), {}, /model 'm': image 3 cannot be decoded/],
    [png.subarray(0, 40), {}, /image 3 cannot be decoded/],
    [png, { max_image_bytes: 10 }, /image 3 has \d+ bytes, more than 10/],
    [png, { max_pixels: 100 }, /image 3 cannot be decoded: .*pixel/i],
  ];
  for (const [bytes, overrides, message] of cases) {
    await assert.rejects(decodeImage(bytes, 4, 4, config(overrides), 3, "model 'm'"), (err: unknown) => err instanceof MpError && err.code === 'MP_INVALID_ARG' && message.test(err.message), String(message));
  }
});
