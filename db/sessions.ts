// Host sessions: login, resolution, logout, scratch pad and purge, each one
// host round trip. Status codes are the procedures' (pg/migrations/002).
import type { Host, Row } from './host.js';
import { statements } from './statements.js';
import { asDate, asNumber, asString, asTrimmed, unexpectedStatus } from './values.js';

export interface RequestContext {
  requestId: string;
  clientAddress: string;
}

export interface LoginInput extends RequestContext {
  sessionId: string;
  sessionHash: string;
  account: string;
  pinDigest: string;
  device: string | null;
  now: Date;
  idleSeconds: number;
  absoluteSeconds: number;
  maxFailures: number;
  lockSeconds: number;
}

export type LoginOutcome =
  | { status: 'ok'; customerId: string; bankId: string; role: Role }
  | { status: 'invalid_credentials' }
  | { status: 'locked'; retryAfterSeconds: number };

export type Role = 'customer' | 'staff';

export interface HostSession {
  sessionId: string;
  sessionHash: string;
  customerId: string;
  accountId: string;
  bankId: string;
  role: Role;
  device: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
}

export type ResolveOutcome =
  | { status: 'alive'; session: HostSession }
  | { status: 'gone' }
  | { status: 'expired' };

export async function login(host: Host, input: LoginInput): Promise<LoginOutcome> {
  const out = await host.call('login', {
    session_id: input.sessionId, session_hash: input.sessionHash, account: input.account,
    pin_digest: input.pinDigest, device: input.device, request_id: input.requestId,
    client_address: input.clientAddress, now: input.now, idle_seconds: input.idleSeconds,
    absolute_seconds: input.absoluteSeconds, max_failures: input.maxFailures,
    lock_seconds: input.lockSeconds,
  });
  switch (asNumber(out.status)) {
    case 0: return { status: 'ok', customerId: asString(out.customer_id), bankId: asString(out.bank_id), role: asString(out.role) as Role };
    case 1: return { status: 'invalid_credentials' };
    case 2: return { status: 'locked', retryAfterSeconds: Math.max(1, asNumber(out.retry_after)) };
    default: return unexpectedStatus('login', asNumber(out.status));
  }
}

export interface ResolveInput extends RequestContext {
  sessionId: string;
  now: Date;
  idleSeconds: number;
  /** The row's idle clock is written only when this many seconds have passed since the last write. */
  touchSeconds: number;
}

export async function resolveSession(host: Host, input: ResolveInput): Promise<ResolveOutcome> {
  const out = await host.call('session_resolve', {
    session_id: input.sessionId, now: input.now, idle_seconds: input.idleSeconds,
    touch_seconds: input.touchSeconds, request_id: input.requestId, client_address: input.clientAddress,
  });
  const status = asNumber(out.status);
  if (status === 1) return { status: 'gone' };
  if (status === 2) return { status: 'expired' };
  if (status !== 0) return unexpectedStatus('session_resolve', status);
  return { status: 'alive', session: toHostSession(input.sessionId, out) };
}

/**
 * The session row as it stands, without the procedure: no expiry handling,
 * no idle-clock write. Null when there is no row. For the read path between
 * idle-clock writes; expiry is then judged by the caller.
 */
export async function readSession(host: Host, sessionId: string): Promise<HostSession | null> {
  const rows = await host.query(statements.sessionRead, [sessionId]);
  return rows.length === 0 ? null : toHostSession(sessionId, rows[0]);
}

function toHostSession(sessionId: string, row: Row): HostSession {
  return {
    sessionId,
    sessionHash: asString(asTrimmed(row.session_hash)),
    customerId: asString(row.customer_id),
    accountId: asString(row.account_id),
    bankId: asString(row.bank_id),
    role: asString(row.role) as Role,
    device: asTrimmed(row.device),
    createdAt: asDate(row.created_at),
    lastSeenAt: asDate(row.last_seen_at),
    idleExpiresAt: asDate(row.idle_expires_at),
    absoluteExpiresAt: asDate(row.absolute_expires_at),
  };
}

/** True when a row was deleted. */
export async function logout(host: Host, sessionId: string, context: RequestContext, now: Date): Promise<boolean> {
  const out = await host.call('logout', { session_id: sessionId, request_id: context.requestId, client_address: context.clientAddress, now });
  return asNumber(out.status) === 0;
}

/** Deletes every session of the session's customer; returns how many. */
export async function logoutAll(host: Host, sessionId: string, context: RequestContext, now: Date): Promise<number> {
  const out = await host.call('logout_all', { session_id: sessionId, request_id: context.requestId, client_address: context.clientAddress, now });
  return asNumber(out.sessions);
}

export async function purgeExpired(host: Host, now: Date, auditBefore: Date): Promise<{ sessions: number; auditRows: number }> {
  const out = await host.call('purge_expired', { now, audit_before: auditBefore });
  return { sessions: asNumber(out.sessions), auditRows: asNumber(out.audit_rows) };
}

/** The serialized scratch pad, or null when the session row is gone. */
export async function getScratchpad(host: Host, sessionId: string): Promise<string | null> {
  const rows = await host.query(statements.scratchpadGet, [sessionId]);
  return rows.length === 0 ? null : asString(rows[0].scratchpad);
}

export async function putScratchpad(host: Host, sessionId: string, serialized: string): Promise<void> {
  await host.query(statements.scratchpadPut, [serialized, sessionId]);
}
