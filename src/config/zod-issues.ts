import type { z } from 'zod';

/** Renders zod issues as `field.path: message; …` so every error names the field at fault. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
