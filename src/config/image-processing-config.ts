import { z } from 'zod';

/**
 * Image in, model outputs out: encoded images (PNG, JPEG, WebP, GIF, TIFF, AVIF) are decoded, turned
 * to RGB, resized to the encoder's input size and scaled, as part of the model. The served model has
 * one BYTES input (one encoded image per row) and the encoder's outputs, plus a class-name output
 * when `labels` is set. Each instance is warmed on a black image at load; set `warmup.enabled: false`
 * (the config's warm-up samples are strings, not images).
 */
export const ImageProcessingSchema = z.strictObject({
  input_name: z.string().min(1).default('image'),
  /** The encoder input that takes the pixels [batch, height, width, 3]; its first input when omitted. */
  encoder_input: z.string().optional(),
  /** Target size; taken from the encoder input's shape when it is fixed there. */
  width: z.int().positive().max(8192).optional(),
  height: z.int().positive().max(8192).optional(),
  /** `fill` stretches to the target size; `contain` letterboxes (black bars); `cover` crops the centre. */
  resize: z.enum(['fill', 'contain', 'cover']).default('fill'),
  kernel: z.enum(['nearest', 'linear', 'cubic', 'lanczos3']).default('linear'),
  /** Each channel value v (0..255) reaches the encoder as v * scale + offset. */
  scale: z.number().default(1 / 255),
  offset: z.number().default(0),
  /** Refuse larger encoded images, and images of more pixels (decompression bombs). */
  max_image_bytes: z.int().positive().default(20 * 1024 * 1024),
  max_pixels: z.int().positive().default(40_000_000),
  /** Class names for a classifier: adds a BYTES output `name` with the top class of `output`. */
  labels: z.strictObject({ output: z.string().min(1), classes: z.array(z.string().min(1)).min(1), name: z.string().min(1).default('label') }).optional(),
});
export type ImageProcessingConfig = z.infer<typeof ImageProcessingSchema>;
