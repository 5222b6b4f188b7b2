// /api/audit: the host's audit trail, for staff.
import { array, object, string } from 'yup';
import { auditPage } from '../db/audit.js';
import { route, type RouteDeps, type RouteSpec } from './define.js';
import { cursorQuery, encodeCursor, keyOf, limitQuery, timestamp } from './schemas.js';

export const AUDIT_EVENTS = ['login', 'logout', 'logout_all', 'session_end', 'session_expired', 'transfer',
  'employee_create', 'employee_update', 'employee_delete'] as const;

const instant = () => string()
  .test('iso-8601', 'must be an ISO 8601 timestamp', (v) => v === undefined || (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v))))
  .meta({ format: 'date-time' });

const entrySchema = object({
  at: timestamp().required(),
  event: string().oneOf([...AUDIT_EVENTS]).required(),
  outcome: string().required().meta({ description: 'ok, or the problem code (invalid_credentials, locked, insufficient_funds, …); replayed for an idempotent replay' }),
  customerId: string().nullable().defined(),
  account: string().nullable().defined(),
  requestId: string().nullable().defined(),
  clientAddress: string().nullable().defined(),
  traceId: string().nullable().defined().meta({ description: 'W3C trace id of the request that wrote the row, when tracing was on.' }),
  device: string().nullable().defined(),
  detail: string().nullable().defined(),
});

const EPOCH = new Date(0);
const FAR_FUTURE = new Date('9999-12-31T00:00:00Z');

export function auditRoutes({ host }: RouteDeps): RouteSpec[] {
  return [
    route({
      method: 'get', path: '/api/audit', operationId: 'listAudit', tag: 'Audit', access: 'staff',
      summary: 'The audit trail, newest first',
      query: object({
        customerId: string().max(12),
        event: string().oneOf([...AUDIT_EVENTS]),
        from: instant().meta({ description: 'Inclusive lower bound on at' }),
        to: instant().meta({ description: 'Exclusive upper bound on at' }),
        limit: limitQuery(),
        cursor: cursorQuery(),
      }).noUnknown(),
      responses: { 200: { description: 'A page of audit entries', schema: object({ items: array(entrySchema).required(), nextCursor: string().nullable().defined() }) } },
      problems: [],
      async handle({ query }) {
        const page = await auditPage(host, {
          customerId: query.customerId, event: query.event, limit: query.limit, before: keyOf(query.cursor),
          from: query.from ? new Date(query.from) : EPOCH, to: query.to ? new Date(query.to) : FAR_FUTURE,
        });
        return { status: 200, body: { items: page.items, nextCursor: page.nextBefore && encodeCursor(page.nextBefore) } };
      },
    }),
  ];
}
