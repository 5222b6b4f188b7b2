// Reading the audit trail (rows are written by the procedures themselves).
import type { Host } from './host.js';
import { statements } from './statements.js';
import { asDate, asString, asTrimmed, LARGEST_KEY, nextKey } from './values.js';

export interface AuditEntry {
  at: Date;
  event: string;
  outcome: string;
  customerId: string | null;
  account: string | null;
  requestId: string | null;
  clientAddress: string | null;
  traceId: string | null;
  device: string | null;
  detail: string | null;
}

export interface AuditQuery {
  customerId?: string;
  event?: string;
  from: Date;
  to: Date;
  limit: number;
  before: string | null;
}

export async function auditPage(host: Host, query: AuditQuery): Promise<{ items: AuditEntry[]; nextBefore: string | null }> {
  const customer = query.customerId ?? null;
  const event = query.event ?? null;
  const rows = await host.query(statements.auditPage, [
    query.before ?? LARGEST_KEY, customer, customer, event, event, query.from, query.to, query.limit + 1,
  ]);
  const page = rows.slice(0, query.limit);
  return {
    items: page.map((row) => ({
      at: asDate(row.logged_at),
      event: asString(row.event),
      outcome: asString(row.outcome),
      customerId: asTrimmed(row.customer_id),
      account: asTrimmed(row.account_id),
      requestId: asTrimmed(row.request_id),
      clientAddress: asTrimmed(row.client_address),
      traceId: asTrimmed(row.trace_id),
      device: asTrimmed(row.device),
      detail: asTrimmed(row.detail),
    })),
    nextBefore: nextKey(page, rows.length > query.limit, 'audit_id'),
  };
}
