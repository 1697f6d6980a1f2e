import sharp from 'sharp';
import { MpError } from '../../errors.js';
import type { ImageProcessingConfig } from '../../config/image-processing-config.js';

/** Decoded pixels ready for the encoder: float32 [height, width, 3], scaled. */
export interface DecodedImage {
  readonly pixels: Float32Array;
  /** The image's own size before resizing, for mapping boxes back. */
  readonly originalWidth: number;
  readonly originalHeight: number;
}

/**
 * Decodes one encoded image with sharp (libvips, off the event loop): RGB, resized to width x height,
 * each value v * scale + offset. Throws MP_INVALID_ARG naming the row for anything that is not an image.
 */
export async function decodeImage(bytes: Uint8Array, width: number, height: number, c: ImageProcessingConfig, row: number, where: string): Promise<DecodedImage> {
  if (bytes.byteLength > c.max_image_bytes) throw new MpError('MP_INVALID_ARG', `${where}: image ${row} has ${bytes.byteLength} bytes, more than ${c.max_image_bytes}`);
  let data: Buffer;
  let info: sharp.OutputInfo;
  let meta: sharp.Metadata;
  try {
    const image = sharp(bytes, { limitInputPixels: c.max_pixels, failOn: 'error' });
    meta = await image.metadata();
    ({ data, info } = await image
      .rotate() // honour EXIF orientation
      .removeAlpha()
      .toColourspace('srgb')
      .resize(width, height, { fit: c.resize, kernel: c.kernel, background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw new MpError('MP_INVALID_ARG', `${where}: image ${row} cannot be decoded: ${(err as Error).message}`);
  }
  if (info.channels !== 3 || info.width !== width || info.height !== height) {
    throw new MpError('MP_INVALID_ARG', `${where}: image ${row} decoded to ${info.width}x${info.height}x${info.channels}, not ${width}x${height}x3`);
  }
  const pixels = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) pixels[i] = data[i]! * c.scale + c.offset;
  return { pixels, originalWidth: meta.width ?? width, originalHeight: meta.height ?? height };
}
