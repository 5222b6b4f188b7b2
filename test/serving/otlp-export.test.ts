// Tracing end to end: the real server entry, configured only by the standard
// OTEL_* variables, exports its spans over OTLP/HTTP to a receiver on
// loopback (a small HTTP server of this test's own).
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnChild, type Child } from '../support/child.js';
import { ALICE, request } from '../support/app.js';
import { TEST_PIN_PEPPER, TEST_SECRET } from '../support/host.js';

interface ExportedSpan { name: string; traceId: string; parentSpanId?: string }
interface ExportRequest {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: ExportedSpan[] }[] }[];
}

describe('OTLP export (OTEL_EXPORTER_OTLP_ENDPOINT)', function () {
  this.timeout(180_000); // a bound for a busy machine; every step waits on an event
  let receiver: Server;
  let child: Child | undefined;
  const received: ExportRequest[] = [];
  const waiting: (() => void)[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/v1/traces') received.push(JSON.parse(Buffer.concat(chunks).toString()) as ExportRequest);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        waiting.splice(0).forEach((wake) => wake());
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    child?.kill();
    await child?.exited;
    receiver.close();
  });

  const spans = () => received.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));
  /** Resolves once the receiver holds a span with this name: each export wakes the check. */
  async function exported(name: string): Promise<ExportedSpan> {
    for (;;) {
      const span = spans().find((s) => s.name === name);
      if (span) return span;
      await new Promise<void>((wake) => waiting.push(wake));
    }
  }

  it('sends the request\u2019s spans with the service name, one trace per request', async () => {
    const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    child = spawnChild(['app/server.ts'], {
      DB_URL: 'pglite:memory', PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', DEMO_DATA: 'true', PIN_KDF_COST: '1024',
      JWT_SECRET: TEST_SECRET, PIN_PEPPER: TEST_PIN_PEPPER, NODE_ENV: 'development',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'bank-api-under-test', OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const { url } = JSON.parse(await child.waitFor(/"msg":"listening"/)) as { url: string };
    const login = await request(url, 'POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
    expect(login.status).to.equal(201);
    const traceId = login.headers.get('traceparent')?.split('-')[1];
    const root = await exported('POST /api/auth/login');
    expect(root.traceId).to.equal(traceId);
    const call = await exported('CALL login');
    expect(call.traceId).to.equal(traceId);
    const names = received.flatMap((r) => r.resourceSpans.map((rs) => rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue));
    expect(new Set(names)).to.deep.equal(new Set(['bank-api-under-test']));
    const logLine = JSON.parse(await child.waitFor(/"msg":"request"/)) as Record<string, unknown>;
    expect(logLine?.traceId).to.equal(traceId);
  });
});
