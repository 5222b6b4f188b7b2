// Prometheus metrics (prom-client), one registry per app: requests by route
// and status, host round trips by procedure or statement, pool usage and the
// session singleflight's savings.
import type { Context, Next } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Auth } from '../auth/auth.js';
import type { Host } from '../db/host.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route' | 'status'>;

  constructor(host: Host, auth: Auth) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers });
    this.latency = new Histogram({
      name: 'http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route', 'status'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers,
    });
    const hostCalls = new Counter({ name: 'host_calls_total', help: 'Host round trips by procedure or statement', labelNames: ['name', 'outcome'], registers });
    const hostLatency = new Histogram({
      name: 'host_call_duration_seconds', help: 'Host round-trip latency', labelNames: ['name'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2], registers,
    });
    host.onCall((name, seconds, failed) => {
      hostCalls.inc({ name, outcome: failed ? 'error' : 'ok' });
      hostLatency.observe({ name }, seconds);
    });
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
      name: 'session_lookups_shared_total', help: 'Session lookups answered by a concurrent request\u2019s host call (singleflight)', registers,
      collect() {
        this.set(auth.sessions.sharedLookups);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  middleware() {
    return async (ctx: Context, next: Next): Promise<void> => {
      const stop = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const labels = { method: ctx.method, route: ctx.state.route ?? 'unmatched', status: String(ctx.status) };
        this.requests.inc(labels);
        this.latency.observe(labels, Number(process.hrtime.bigint() - stop) / 1e9);
      }
    };
  }
}
