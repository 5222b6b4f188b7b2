// Prometheus metrics (prom-client), one registry per app: request counts and
// latency by route and status (one histogram), host round trips by procedure
// or statement, pool usage, session touches and the singleflight's savings.
// In a cluster, the primary serves all workers' series in one scrape.
import type { RequestListener } from 'node:http';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Authenticator } from '../auth/authenticator.js';
import type { SharedState } from '../auth/shared-state.js';
import type { Host } from '../db/host.js';
import { TurnBatch } from './end-of-turn.js';

export class Metrics {
  readonly registry = new Registry();
  /** Stops counting this host's calls (the app is done with the host). */
  readonly dispose: () => void;
  /** Its _count series is the request count by route and status: one observation per request. */
  private readonly latency: Histogram<'method' | 'route' | 'status'>;
  private readonly requestSeries = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>();
  /**
   * This turn's observations, recorded when the turn ends (app/end-of-turn.ts)
   * or before the series are read, whichever comes first: prom-client checks
   * and hashes the labels of every observation, and a turn's batch does it
   * with its code hot in the CPU's caches.
   */
  private readonly pending = new TurnBatch<Observation>((batch) => this.record(batch));
  private readonly recordHostCall: (name: string, seconds: number, failed: boolean) => void;

  constructor(host: Host, auth: Authenticator, shared: SharedState) {
    const registers = [this.registry];
    // In a cluster each worker's series keep their own pid label through the primary's aggregation.
    this.registry.setDefaultLabels({ pid: String(process.pid) });
    collectDefaultMetrics({ register: this.registry });
    // A scrape (this process's, or the cluster primary's through its worker) reads nothing stale.
    const collect = () => this.pending.flush();
    this.latency = new Histogram({
      name: 'http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers, collect,
    });
    const hostCalls = new Counter({ name: 'host_calls_total', help: 'Host round trips by procedure or statement', labelNames: ['name', 'outcome'], registers, collect });
    const hostLatency = new Histogram({
      name: 'host_call_duration_seconds', help: 'Host round-trip latency', labelNames: ['name'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2], registers, collect,
    });
    // Labelled children are looked up once per name, not hashed on every call.
    const perName = new Map<string, { ok: Counter.Internal; error: Counter.Internal; latency: Histogram.Internal<'name'> }>();
    this.recordHostCall = (name, seconds, failed) => {
      let series = perName.get(name);
      if (!series) {
        series = { ok: hostCalls.labels(name, 'ok'), error: hostCalls.labels(name, 'error'), latency: hostLatency.labels(name) };
        perName.set(name, series);
      }
      (failed ? series.error : series.ok).inc();
      series.latency.observe(seconds);
    };
    this.dispose = host.onCall((name, seconds, { failed }) => this.pending.add({ kind: 'host', name, seconds, failed }));
    new Gauge({
      name: 'host_pool_connections', help: 'Host pool connections by state', labelNames: ['state'], registers,
      collect() {
        const pool = host.stats().pool;
        if (!pool) return;
        this.set({ state: 'in_use' }, pool.inUse);
        this.set({ state: 'open' }, pool.open);
        this.set({ state: 'waiting' }, pool.waiting);
        this.set({ state: 'max' }, pool.max);
      },
    });
    new Gauge({
      name: 'session_touches_total', help: 'Session lookups that wrote the host row’s idle clock', registers,
      collect() {
        this.set(auth.stats().touches);
      },
    });
    new Gauge({
      name: 'shared_state_fallbacks_total', help: 'Login limit checks counted by this process alone because the shared store (Redis) did not answer', registers,
      collect() {
        this.set(shared.fallbacks());
      },
    });
    new Gauge({
      name: 'session_lookups_shared_total', help: 'Session lookups answered by a concurrent request\u2019s host call (singleflight)', registers,
      collect() {
        this.set(auth.stats().sharedLookups);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** GET /metrics for this process alone. */
  listener(): RequestListener {
    return prometheusListener(() => this.text(), this.contentType);
  }

  /** One request's latency, by method, route template ('unmatched' for any other path) and status. */
  observe(method: string, route: string, status: number, seconds: number): void {
    this.pending.add({ kind: 'request', method, route, status, seconds });
  }

  /** Records a turn's observations in prom-client's series. */
  private record(batch: Observation[]): void {
    for (const o of batch) {
      if (o.kind === 'host') {
        this.recordHostCall(o.name, o.seconds, o.failed);
        continue;
      }
      const key = `${o.method} ${o.route} ${o.status}`;
      let series = this.requestSeries.get(key);
      if (!series) {
        // Unmatched paths share one label value, so the map stays as small as the route table.
        series = this.latency.labels(o.method, o.route, String(o.status));
        this.requestSeries.set(key, series);
      }
      series.observe(o.seconds);
    }
  }
}

type Observation =
  | { kind: 'request'; method: string; route: string; status: number; seconds: number }
  | { kind: 'host'; name: string; seconds: number; failed: boolean };

/**
 * GET /metrics for Prometheus, on a listener of its own (METRICS_HOST and
 * METRICS_PORT, loopback by default): the API port never serves it.
 */
function prometheusListener(text: () => Promise<string>, contentType: string): RequestListener {
  return (request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    text().then(
      (body) => response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(body),
      () => response.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n'),
    );
  };
}

/** In a cluster worker: answer the primary's scrapes with this app's registry (prom-client's cluster aggregation). */
export function shareMetricsWithPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // its constructor installs the worker's answer to the primary, once
}

/** In the cluster primary: every worker's series in one scrape, each labelled with its worker's pid. */
export function clusterMetricsListener(): RequestListener {
  const aggregator = new AggregatorRegistry();
  return prometheusListener(() => aggregator.clusterMetrics(), aggregator.contentType);
}
