import { z } from 'zod';

/** Model and version names: no separators, no dot-dot, so a name can never leave the repository. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const VERSION_PATTERN = /^[1-9][0-9]{0,9}$/;

export const ModelName = z
  .string()
  .regex(MODEL_NAME_PATTERN, 'must be 1-128 characters of letters, digits, _ . - and start with a letter or digit')
  .refine((s) => !s.includes('..'), 'must not contain ..');
