import type { FixedHistogram } from '../scheduler/histogram.js';

type Labels = Record<string, string>;
interface Sample { metricName: string; labels: Labels; value: number }

/**
 * A Prometheus histogram whose observations live in the core's FixedHistograms; it only formats
 * them when scraped (prom-client accepts any metric object with `name` and `get()`), so the request
 * path never touches prom-client.
 */
export class ScrapeHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => Iterable<readonly [Labels, FixedHistogram]>,
  ) {}

  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] } {
    const values: Sample[] = [];
    for (const [labels, h] of this.read()) {
      let cumulative = 0;
      h.bounds.forEach((bound, i) => {
        cumulative += h.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: String(bound) }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: h.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: h.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** prom-client calls this on reset(); observations belong to the core. */
  reset(): void {}
}
