/** Latencies kept per step at most; beyond it, the oldest are overwritten (p99 over the latest). */
const MAX_LATENCIES = 10_000;

/** What one canary step has seen of the candidate: outcomes, latencies and agreement with the incumbent. */
export class StepWindow {
  requests = 0;
  errors = 0;
  compared = 0;
  agreed = 0;
  private readonly latenciesMs: number[] = [];
  private next = 0;

  record(ok: boolean, latencyMs: number): void {
    this.requests++;
    if (!ok) {
      this.errors++;
      return;
    }
    if (this.latenciesMs.length < MAX_LATENCIES) this.latenciesMs.push(latencyMs);
    else {
      this.latenciesMs[this.next] = latencyMs;
      this.next = (this.next + 1) % MAX_LATENCIES;
    }
  }

  compare(agreed: boolean): void {
    this.compared++;
    if (agreed) this.agreed++;
  }

  errorRate(): number {
    return this.requests === 0 ? 0 : this.errors / this.requests;
  }

  p99Ms(): number {
    if (this.latenciesMs.length === 0) return 0;
    const sorted = [...this.latenciesMs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
  }

  agreement(): number {
    return this.compared === 0 ? 1 : this.agreed / this.compared;
  }
}
