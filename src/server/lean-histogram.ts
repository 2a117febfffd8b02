// A Prometheus histogram for the paths every request takes. prom-client's Histogram validates and
// hashes its label object on every observation, ~5% of a session start's CPU here with several
// observations per request; this one keys its series by the label values in a fixed order and
// renders the same exposition (cumulative _bucket with le, _sum, _count) through the registry.
import type { Registry } from 'prom-client';

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket, not cumulative; the last slot counts those above every bound. */
  counts: number[];
  sum: number;
}

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export class LeanHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(labels: Partial<Record<L, string>>, value: number): void {
    let key = '';
    for (const n of this.labelNames) key += `${labels[n] ?? ''}\u0000`;
    let series = this.#series.get(key);
    if (series === undefined) {
      const own: Record<string, string> = {};
      for (const n of this.labelNames) if (labels[n] !== undefined) own[n] = labels[n] as string;
      series = { labels: own, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0 };
      this.#series.set(key, series);
    }
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]) i++;
    series.counts[i]++;
    series.sum += value;
  }

  /** Seconds until the returned function is called; its labels add to these. */
  startTimer(labels: Partial<Record<L, string>> = {}): (more?: Partial<Record<L, string>>) => void {
    const start = performance.now();
    return (more) => this.observe(more ? { ...labels, ...more } : labels, (performance.now() - start) / 1000);
  }

  reset(): void {
    this.#series.clear();
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.#series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...s.labels }, value: cumulative });
      });
      cumulative += s.counts[this.buckets.length];
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: cumulative });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: cumulative });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
