// Tracing (OpenTelemetry, W3C Trace Context) with an in-memory exporter: the
// span tree of a login, a protected read and a transfer on whichever host the
// run uses (PGlite, or PostgreSQL with TEST_HOST=postgres), the trace id on
// the response, in the audit row and in every log line of the request.
import { expect } from 'chai';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Writable } from 'node:stream';
import { createLogger } from '../../app/logger.js';
import { startTracing, traceIdsOfActiveSpan, type Tracing } from '../../app/tracing.js';
import { hostRow, resetHost, TEST_HOST } from '../support/host.js';
import { ALICE, BOB, startApp, type TestApp } from '../support/app.js';
import { TestDevice } from '../support/dpop.js';
import { until } from '../support/wait.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

describe('distributed tracing (OpenTelemetry)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let api: TestApp;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    tracing = await startTracing({ serviceName: 'test', version: 'test', processor: new SimpleSpanProcessor(exporter) });
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
    api = await startApp({}, { tracer: tracing.tracer, logger: createLogger('info', sink, traceIdsOfActiveSpan) });
  });
  after(async () => {
    await api?.close();
    await tracing?.shutdown();
  });
  beforeEach(async () => {
    await resetHost();
    exporter.reset();
    lines.length = 0;
  });

  /** The spans of one trace as `name <- parent name`, depth first from the root, siblings in start order. */
  function tree(traceId: string): string[] {
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const started = (a: ReadableSpan, b: ReadableSpan) => (a.startTime[0] - b.startTime[0]) || (a.startTime[1] - b.startTime[1]);
    const childrenOf = (parent: ReadableSpan | undefined) => spans
      .filter((s) => (parent ? s.parentSpanContext?.spanId === parent.spanContext().spanId : !byId.has(s.parentSpanContext?.spanId ?? '')))
      .sort(started);
    const walk = (parent: ReadableSpan | undefined): string[] => childrenOf(parent)
      .flatMap((s) => [`${s.name} <- ${parent?.name ?? '(root)'}`, ...walk(s)]);
    return walk(undefined);
  }
  const spanNamed = (traceId: string, name: string): ReadableSpan | undefined =>
    exporter.getFinishedSpans().find((s) => s.spanContext().traceId === traceId && s.name === name);
  /** No span of the trace holds any of `secrets`: names, attributes, events, status. */
  const expectNoneIn = (traceId: string, secrets: string[]) => {
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    expect(spans.length).to.be.above(0);
    const text = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events, s.status, s.links]));
    for (const secret of secrets) expect(text).not.to.include(secret);
  };
  const traceOf = (response: { headers: Headers }) => {
    const header = response.headers.get('traceparent') ?? '';
    expect(header).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    return header.split('-')[1] ?? '';
  };

  it('traces a login: the request, the PIN KDF and the LOGIN call, and the trace id reaches the audit row', async () => {
    const response = await api.request('POST', '/api/auth/login', { body: { account: ALICE.account, pin: ALICE.pin } });
    expect(response.status).to.equal(201);
    const traceId = traceOf(response);
    expect(tree(traceId)).to.deep.equal([
      'POST /api/auth/login <- (root)',
      'pin.kdf <- POST /api/auth/login',
      'CALL login <- POST /api/auth/login',
    ]);
    const root = spanNamed(traceId, 'POST /api/auth/login');
    expect(root?.attributes).to.include({ 'http.request.method': 'POST', 'http.route': '/api/auth/login', 'http.response.status_code': 201 });
    expectNoneIn(traceId, [ALICE.pin, response.body.token, response.body.token.split('.')[2]]);
    expect(spanNamed(traceId, 'CALL login')?.attributes).to.include({
      'db.system.name': TEST_HOST === 'postgres' || TEST_HOST === 'pglite' ? 'postgresql' : 'ibm.db2',
      'db.operation.name': 'CALL', 'db.stored_procedure.name': 'login',
    });
    const audit = await hostRow("SELECT trace_id FROM audit_log WHERE event = 'login'");
    expect(audit.trace_id).to.equal(traceId);
  });

  it('traces a protected read: token check, session lookup (which kind) with its host call, then the statement', async () => {
    const token = await api.login(BOB.account, BOB.pin);
    exporter.reset();
    const response = await api.request('GET', '/api/accounts', { token });
    const traceId = traceOf(response);
    expect(tree(traceId)).to.deep.equal([
      'GET /api/accounts <- (root)',
      'token.verify <- GET /api/accounts',
      'session.resolve <- GET /api/accounts',
      'CALL session_resolve <- session.resolve',
      'account.list <- GET /api/accounts',
    ]);
    expect(spanNamed(traceId, 'session.resolve')?.attributes).to.include({ 'session.lookup': 'procedure' });
    expect(spanNamed(traceId, 'account.list')?.attributes).to.include({ 'db.query.summary': 'account.list', 'db.response.returned_rows': 1 });
    const again = await api.request('GET', '/api/accounts', { token });
    expect(spanNamed(traceOf(again), 'session.resolve')?.attributes, 'between idle-clock writes: a read').to.include({ 'session.lookup': 'read' });
  });

  it('continues the client\u2019s trace (traceparent) through a signed transfer, and logs the ids on every line', async () => {
    const phone = await TestDevice.create();
    const token = await api.loginAs(phone, ALICE.account, ALICE.pin);
    exporter.reset();
    lines.length = 0;
    const signed = { fromAccount: ALICE.account, toAccount: BOB.account, amount: '5.00', currency: 'EUR', idempotencyKey: 'traced-transfer-1' };
    const response = await api.requestAs(phone, 'POST', '/api/transfers', {
      token, body: { bankId: 'DEMOBANK1', fromAccount: ALICE.account, toAccount: BOB.account, amount: '5.00' },
      headers: {
        'Idempotency-Key': signed.idempotencyKey, 'Transfer-Signature': await phone.signTransfer(signed, Math.floor(api.clock.now.getTime() / 1000)),
        traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`,
      },
    });
    expect(response.status, response.text).to.equal(201);
    expect(traceOf(response)).to.equal(TRACE_ID);
    expect(tree(TRACE_ID)).to.deep.equal([
      'POST /api/transfers <- (root)',
      'token.verify <- POST /api/transfers',
      'session.resolve <- POST /api/transfers',
      'CALL session_resolve <- session.resolve',
      'CALL transfer <- POST /api/transfers',
    ]);
    expect(spanNamed(TRACE_ID, 'POST /api/transfers')?.parentSpanContext?.spanId).to.equal(PARENT_SPAN);
    expectNoneIn(TRACE_ID, [token, token.split('.')[2]!, ALICE.pin]);
    expect((await hostRow("SELECT trace_id FROM audit_log WHERE event = 'transfer'")).trace_id).to.equal(TRACE_ID);
    await until(() => lines.some((line) => line.msg === 'request')); // access lines are logged when the turn ends
    const requestLine = lines.find((line) => line.msg === 'request');
    expect(requestLine).to.include({ traceId: TRACE_ID });
    expect(requestLine?.spanId).to.equal(spanNamed(TRACE_ID, 'POST /api/transfers')?.spanContext().spanId);
  });

  it('records a failed host call\u2019s SQLSTATE on its span', async () => {
    const token = await api.login(BOB.account, BOB.pin);
    exporter.reset();
    await api.host.query({ name: 'test.broken', sql: 'SELECT no_such_column FROM account' }, []).catch(() => undefined);
    const span = exporter.getFinishedSpans().find((s) => s.name === 'test.broken');
    expect(span?.attributes['db.response.status_code']).to.match(/^[0-9A-Z]{5}$/);
    expect(span?.status.code).to.equal(2); // ERROR
    expect((await api.request('GET', '/api/accounts', { token })).status).to.equal(200);
  });
});
