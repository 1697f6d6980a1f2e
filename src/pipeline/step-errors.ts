/**
 * Thrown by a step to say "retrying cannot help": the run goes straight to the dead-letter queue,
 * skipping the remaining attempts (the role of BullMQ's UnrecoverableError).
 */
export class UnrecoverableStepError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnrecoverableStepError';
  }
}

/** The worker no longer holds the run (its lease passed, or it was cancelled): stop without writing. */
export class RunAbortedError extends Error {
  readonly reason: 'lost' | 'cancelled' | 'shutdown';
  constructor(reason: 'lost' | 'cancelled' | 'shutdown') {
    super(`run aborted: ${reason}`);
    this.name = 'RunAbortedError';
    this.reason = reason;
  }
}

export class StepTimeoutError extends Error {
  constructor(step: string, timeoutMs: number) {
    super(`step '${step}' timed out after ${timeoutMs} ms`);
    this.name = 'StepTimeoutError';
  }
}
