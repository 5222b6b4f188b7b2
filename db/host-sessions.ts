// Host sessions: login, resolution, logout (one, all, or one device of the
// customer's), the device list, scratch pad and purge, each one host round
// trip. Status codes are the procedures' (db/procedures.ts names them).
import type { CallContext, Host, RequestContext, Row } from './host.js';
import { auditArgs, outcomeOf } from './procedures.js';
import { statements } from './statements.js';
import { asDate, asNumber, asOneOf, asString, asTrimmed, firstRow } from './values.js';

export interface LoginInput extends RequestContext {
  sessionId: string;
  sessionHash: string;
  account: string;
  pinDigest: string;
  device: string | null;
  /** Thumbprint of the device key the session is bound to (DPoP), or null for a bearer session. */
  jkt: string | null;
  now: Date;
  idleSeconds: number;
  absoluteSeconds: number;
  maxFailures: number;
  lockSeconds: number;
}

export type LoginOutcome =
  | { status: 'ok'; session: HostSession }
  | { status: 'invalid_credentials' }
  | { status: 'locked'; retryAfterSeconds: number };

export const ROLES = ['customer', 'staff'] as const;
export type Role = (typeof ROLES)[number];

export interface HostSession {
  sessionId: string;
  sessionHash: string;
  customerId: string;
  /** The account number this session logged in with. */
  accountId: string;
  bankId: string;
  role: Role;
  device: string | null;
  jkt: string | null;
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
    pin_digest: input.pinDigest, device: input.device, jkt: input.jkt, ...auditArgs(input),
    now: input.now, idle_seconds: input.idleSeconds, absolute_seconds: input.absoluteSeconds,
    max_failures: input.maxFailures, lock_seconds: input.lockSeconds,
  }, input);
  switch (outcomeOf('login', out.status)) {
    case 'ok': return { status: 'ok', session: createdSession(input, out) };
    case 'invalid_credentials': return { status: 'invalid_credentials' };
    case 'locked': return { status: 'locked', retryAfterSeconds: Math.max(1, asNumber(out.retry_after)) };
  }
}

/** The row the login procedure created: its clocks are the procedure's own arithmetic, from the same inputs. */
function createdSession(input: LoginInput, out: Row): HostSession {
  const absoluteExpiresAt = new Date(input.now.getTime() + input.absoluteSeconds * 1000);
  return {
    sessionId: input.sessionId,
    sessionHash: input.sessionHash,
    customerId: asString(out.customer_id),
    accountId: input.account,
    bankId: asString(out.bank_id),
    role: asOneOf(out.access_role, ROLES, 'role'),
    device: input.device,
    jkt: input.jkt,
    createdAt: input.now,
    lastSeenAt: input.now,
    idleExpiresAt: new Date(Math.min(input.now.getTime() + input.idleSeconds * 1000, absoluteExpiresAt.getTime())),
    absoluteExpiresAt,
  };
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
    touch_seconds: input.touchSeconds, ...auditArgs(input),
  }, input);
  switch (outcomeOf('session_resolve', out.status)) {
    case 'alive': return { status: 'alive', session: toHostSession(input.sessionId, out) };
    case 'gone': return { status: 'gone' };
    case 'expired': return { status: 'expired' };
  }
}

/**
 * The session row as it stands, without the procedure: no expiry handling,
 * no idle-clock write. Null when there is no row. For the read path between
 * idle-clock writes; expiry is then judged by the caller.
 */
export async function readSession(host: Host, sessionId: string, context?: CallContext): Promise<HostSession | null> {
  const row = firstRow(await host.query(statements.sessionRead, [sessionId], context));
  return row && toHostSession(sessionId, row);
}

function toHostSession(sessionId: string, row: Row): HostSession {
  return {
    sessionId,
    sessionHash: asString(asTrimmed(row.session_hash)),
    customerId: asString(row.customer_id),
    accountId: asString(row.account_id),
    bankId: asString(row.bank_id),
    role: asOneOf(row.access_role, ROLES, 'role'),
    device: asTrimmed(row.device),
    jkt: asTrimmed(row.jkt),
    createdAt: asDate(row.created_at),
    lastSeenAt: asDate(row.last_seen_at),
    idleExpiresAt: asDate(row.idle_expires_at),
    absoluteExpiresAt: asDate(row.absolute_expires_at),
  };
}

/** True when a row was deleted. */
export async function logout(host: Host, sessionId: string, context: RequestContext, now: Date): Promise<boolean> {
  const out = await host.call('logout', { session_id: sessionId, ...auditArgs(context), now }, context);
  return outcomeOf('logout', out.status) === 'deleted';
}

/** Deletes every session of the session's customer; returns how many, or null when the session itself is gone. */
export async function logoutAll(host: Host, sessionId: string, context: RequestContext, now: Date): Promise<number | null> {
  const out = await host.call('logout_all', { session_id: sessionId, ...auditArgs(context), now }, context);
  return outcomeOf('logout_all', out.status) === 'done' ? asNumber(out.sessions) : null;
}

/** One of the customer's live sessions, as the device list shows it. */
export interface DeviceSession {
  /** Opaque reference: the session's keyed hash, never its id. */
  ref: string;
  device: string | null;
  bound: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
}

/** The customer's sessions that have not expired at `now`, oldest first. */
export async function customerSessions(host: Host, customerId: string, now: Date, context?: CallContext): Promise<DeviceSession[]> {
  const rows = await host.query(statements.sessionsOfCustomer, [customerId, now, now], context);
  return rows.map((row) => ({
    ref: asString(asTrimmed(row.session_hash)),
    device: asTrimmed(row.device),
    bound: asTrimmed(row.jkt) !== null,
    createdAt: asDate(row.created_at),
    lastSeenAt: asDate(row.last_seen_at),
    idleExpiresAt: asDate(row.idle_expires_at),
    absoluteExpiresAt: asDate(row.absolute_expires_at),
  }));
}

/** Ends the customer's session named by `ref`: 'ended', 'gone' (the caller's own session is), or 'not_found'. */
export async function endSession(
  host: Host, sessionId: string, ref: string, context: RequestContext, now: Date,
): Promise<'ended' | 'gone' | 'not_found'> {
  const out = await host.call('session_end', { session_id: sessionId, ref, ...auditArgs(context), now }, context);
  return outcomeOf('session_end', out.status);
}

/** What the purge deletes: rows older than these (sessions by their own expiry). */
export interface PurgeHorizon {
  now: Date;
  auditBefore: Date;
  /** Failure guards neither locked nor used since. */
  guardBefore: Date;
  /** Known devices that have not logged in since. */
  knownDeviceBefore: Date;
}

export async function purgeExpired(host: Host, horizon: PurgeHorizon): Promise<{ sessions: number; auditRows: number }> {
  const out = await host.call('purge_expired', {
    now: horizon.now, audit_before: horizon.auditBefore, guard_before: horizon.guardBefore,
    known_device_before: horizon.knownDeviceBefore,
  });
  return { sessions: asNumber(out.sessions), auditRows: asNumber(out.audit_rows) };
}

/** The serialized scratch pad, or null when the session row is gone. */
export async function getScratchpad(host: Host, sessionId: string, context?: CallContext): Promise<string | null> {
  const row = firstRow(await host.query(statements.scratchpadGet, [sessionId], context));
  return row && asString(row.scratch_pad);
}

export async function putScratchpad(host: Host, sessionId: string, serialized: string, context?: CallContext): Promise<void> {
  await host.query(statements.scratchpadPut, [serialized, sessionId], context);
}

