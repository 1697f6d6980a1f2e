import sharp from 'sharp';
import type { Tensor } from '../../tensor/tensor.js';

/** PP-OCR recognition input height; widths vary with the line's aspect ratio. */
export const OCR_LINE_HEIGHT = 48;
/** Widest line we feed in one piece (PaddleOCR's default limit is similar). */
export const OCR_MAX_WIDTH = 1280;

/**
 * Turns an image of one text line into PP-OCRv4's recognition input: height 48, width scaled to
 * keep the aspect ratio (a multiple of 8, as the model downsamples width by 8), BGR channel order,
 * values normalised to [-1, 1] as PaddleOCR does ((x / 255 - 0.5) / 0.5), laid out [1, 3, 48, W].
 */
export async function textLineToTensor(image: Buffer | string, name = 'x'): Promise<Tensor> {
  const meta = await sharp(image).metadata();
  const ratio = (meta.width ?? 1) / Math.max(1, meta.height ?? 1);
  const width = Math.min(OCR_MAX_WIDTH, Math.max(8, Math.ceil((OCR_LINE_HEIGHT * ratio) / 8) * 8));
  const { data, info } = await sharp(image)
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .toColourspace('srgb')
    .resize(width, OCR_LINE_HEIGHT, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const channels = info.channels;
  const plane = OCR_LINE_HEIGHT * width;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const r = data[i * channels]!;
    const g = data[i * channels + (channels >= 3 ? 1 : 0)]!;
    const b = data[i * channels + (channels >= 3 ? 2 : 0)]!;
    out[i] = b / 127.5 - 1; // BGR: the model was trained on OpenCV's channel order
    out[plane + i] = g / 127.5 - 1;
    out[2 * plane + i] = r / 127.5 - 1;
  }
  return { name, datatype: 'FP32', shape: [1, 3, OCR_LINE_HEIGHT, width], data: out };
}
