import { z } from 'zod';

export const SegmentSchema = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  speaker: z.string().max(200).optional(),
  /** Seconds from the start of the recording. */
  start: z.number().nonnegative().optional(),
  end: z.number().nonnegative().optional(),
  text: z.string().max(100_000),
});

export const LinkRequestSchema = z.strictObject({
  /** The source: segments (speaker turns, captions, OCR blocks) or plain text ("Speaker: ..." lines become turns). */
  source: z.union([
    z.strictObject({ segments: z.array(SegmentSchema).min(1).max(50_000) }),
    z.strictObject({ text: z.string().min(1).max(5_000_000) }),
  ]),
  /** The summary: text (split into sentences here) or its sentences. */
  summary: z.union([z.string().min(1).max(500_000), z.array(z.string().min(1).max(10_000)).min(1).max(2000)]),
  /** Evidence items returned per summary sentence. */
  topK: z.int().min(1).max(20).default(3),
  /** Support threshold; default: the calibrated one shipped with the scorer. */
  threshold: z.number().min(0).max(1).optional(),
});
export type LinkRequest = z.output<typeof LinkRequestSchema>;
export type LinkRequestInput = z.input<typeof LinkRequestSchema>;
export type SegmentInput = z.output<typeof SegmentSchema>;

/** A piece of one segment that supports a sentence: character offsets into that segment's text. */
export interface EvidenceSpan {
  readonly segmentId: string;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export interface EvidenceItem {
  /** Segments this evidence covers (one, or a window of adjacent turns). */
  readonly segmentIds: readonly string[];
  readonly spans: readonly EvidenceSpan[];
  readonly speakers: readonly string[];
  readonly startTime: number | null;
  readonly endTime: number | null;
  /** Probability that this item supports the sentence, from the calibrated scorer. */
  readonly score: number;
}

export interface LinkedSentence {
  readonly index: number;
  readonly text: string;
  /** Offsets into the summary text (when the summary came as text). */
  readonly start: number | null;
  readonly end: number | null;
  /** The best evidence item's score, in [0, 1]. */
  readonly score: number;
  readonly supported: boolean;
  readonly evidence: readonly EvidenceItem[];
}

export interface LinkResult {
  readonly sentences: readonly LinkedSentence[];
  readonly threshold: number;
  /** The embedding model the similarities came from (the scorer is calibrated on USE-lite's). */
  readonly embeddingModel: string;
  readonly segments: readonly { id: string; speaker: string | null; start: number | null; end: number | null; text: string }[];
  readonly timing: { readonly embedMs: number; readonly totalMs: number };
}
