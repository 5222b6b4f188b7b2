// Host sessions: login, resolution, logout (one, all, or one device of the
// customer's), the device list, scratch pad and purge, each one host round
// trip. Status codes are the procedures' (db/procedures.ts names them).
import type { CallContext, Host, RequestContext, Row } from './host.js';
import { auditArgs, outcomeOf } from './procedures.js';
import { SESSION_READ_BATCH, statements } from './statements.js';
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
 * The rows of 1 to SESSION_READ_BATCH sessions in one round trip, by session
 * id (a session without a row absent), each mapped by its own reader: a row
 * that cannot be read fails its request alone.
 */
async function sessionRows(host: Host, sessionIds: readonly string[], context?: CallContext): Promise<Map<string, Row>> {
  const last = sessionIds.at(-1);
  if (last === undefined || sessionIds.length > SESSION_READ_BATCH) throw new RangeError(`reads 1 to ${SESSION_READ_BATCH} sessions, not ${sessionIds.length}`);
  if (sessionIds.length === 1) {
    const row = firstRow(await host.query(statements.sessionRead, [last], context));
    return new Map(row ? [[last, row]] : []);
  }
  // Every marker given a value, the last id repeated: one statement text whatever the batch's size.
  const params = [...sessionIds, ...Array<string>(SESSION_READ_BATCH - sessionIds.length).fill(last)];
  const rows = new Map<string, Row>();
  for (const row of await host.query(statements.sessionReadBatch, params, context)) rows.set(asString(asTrimmed(row.session_id)), row);
  return rows;
}

interface PendingRead {
  sessionId: string;
  context: CallContext;
  resolve(session: HostSession | null): void;
  reject(error: unknown): void;
}

/**
 * Session reads asked for in one event-loop turn, sent to the host together
 * when the turn ends, SESSION_READ_BATCH sessions a statement. Under load one
 * turn carries several requests to their session lookup, and one round trip
 * for all of them costs the host (and the API) less than one each. A lone
 * read is the plain primary-key read, made for its request (the client
 * information Db2 operators see names it); a shared one names no request.
 * The turn's end is the first read's own setImmediate, so a shared read runs
 * in that request's async context: its trace shows the call, the others'
 * show their lookup without it. (Not app/end-of-turn.ts's TurnBatch: db/ may
 * not import app/, and that queue's turn may have been opened by another
 * request, whose trace a lone read would then join.)
 */
export class SessionReads {
  private pending: PendingRead[] = [];

  constructor(private readonly host: Host) {}

  /**
   * The session row as it stands, without the procedure: no expiry handling,
   * no idle-clock write; null when there is no row. For the read path between
   * idle-clock writes, where the caller judges expiry. A host failure rejects
   * every read of its batch.
   */
  read(sessionId: string, context: CallContext): Promise<HostSession | null> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ sessionId, context, resolve, reject }) === 1) setImmediate(this.send);
    });
  }

  private readonly send = (): void => {
    const reads = this.pending;
    this.pending = [];
    for (let start = 0; start < reads.length; start += SESSION_READ_BATCH) {
      const batch = reads.slice(start, start + SESSION_READ_BATCH);
      const context = batch.length === 1 ? batch[0]?.context : undefined;
      sessionRows(this.host, batch.map((read) => read.sessionId), context).then(
        (rows) => { for (const read of batch) settle(read, rows.get(read.sessionId)); },
        (error: unknown) => { for (const read of batch) read.reject(error); },
      );
    }
  };
}

function settle(read: PendingRead, row: Row | undefined): void {
  try {
    read.resolve(row ? toHostSession(read.sessionId, row) : null);
  } catch (error) {
    read.reject(error);
  }
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
export interface DeviceSession extends Pick<HostSession, 'device' | 'createdAt' | 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt'> {
  /** Opaque reference: the session's keyed hash, never its id. */
  ref: string;
  bound: boolean;
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

