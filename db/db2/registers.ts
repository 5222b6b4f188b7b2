// What a pooled connection carries before it runs the API's SQL: special
// registers (schema and path, so scripts and procedures resolve unqualified
// names; lock timeout, so a blocked statement fails in time) and the client
// information Db2 operators see (application, customer, workstation, request).
import type { CallContext } from '../host.js';
import { diagnosticOf, type Db2Database, type Db2Diagnostic } from './binding.js';

/** sqlcli1.h SQL_ATTR_INFO_*: sent to the server with the next request, no round trip of their own. */
export const CLIENT_INFO_ATTRIBUTES = { user: 1281, workstation: 1282, application: 1283, accounting: 1284 } as const;
export const APPLICATION_NAME = 'host-session-api';

/**
 * The shortest limits of current servers: the CLI takes 255 bytes; Db2 for
 * z/OS 11+ keeps 128 of the client user id, and the accounting string is
 * CHAR(200) in the client information API.
 */
const LIMITS = { user: 128, workstation: 255, application: 255, accounting: 200 } as const;

type ClientInfo = Record<'user' | 'workstation' | 'accounting', string>;

/**
 * What an unset field is sent as. ibm_db's SetAttr passes '' (and the text
 * "null") as a NULL pointer (GETCPPSTR, src/odbc.h), which SQLSetConnectAttr
 * refuses for a string attribute (HY009): the reset after a customer's call
 * would fail the next call on that connection, a health ping or purge
 * included. A single blank reaches the CLI, reads as blank on every monitor
 * as a cleared field does, and is no customer's id. (Not the application's
 * name: workload rules keyed on the client user would take it for a user.)
 */
const BLANK = ' ';
const sendable = (value: string): string => (value === '' ? BLANK : value === 'null' ? 'null ' : value);

export interface RegisterSettings {
  schema: string;
  lockTimeoutSeconds: number;
}

export type RunStatement = (db: Db2Database, sql: string) => Promise<void>;

/** Db2 12 for z/OS has no CURRENT LOCK TIMEOUT (42601), Db2 13 below function level 500 refuses it (56038). */
const unsupportedStatement = (diagnostic: Db2Diagnostic) =>
  diagnostic.sqlstate?.startsWith('42') === true || diagnostic.sqlstate?.startsWith('56') === true;

function clientInfoFor(context: CallContext | undefined): ClientInfo {
  const accounting = context?.requestId ? `request=${context.requestId}${context.traceId ? ` trace=${context.traceId}` : ''}` : '';
  return {
    user: sendable((context?.customerId ?? '').slice(0, LIMITS.user)),
    workstation: sendable((context?.clientAddress ?? '').slice(0, LIMITS.workstation)),
    accounting: sendable(accounting.slice(0, LIMITS.accounting)),
  };
}

function setAttribute(db: Db2Database, attribute: number, value: string): Promise<void> {
  return new Promise((resolve, reject) => {
    db.setAttr(attribute, value, (error) => (error ? reject(error) : resolve()));
  });
}

export class ConnectionRegisters {
  /** What each connection carries now; a connection missing here starts from its connect-time defaults (unset: blank). */
  private readonly carried = new WeakMap<Db2Database, ClientInfo>();
  private lockTimeoutSupported = true;

  constructor(
    private readonly settings: RegisterSettings,
    private readonly run: RunStatement,
    private readonly warn: (operation: string, diagnostic: Db2Diagnostic) => void,
  ) {}

  /** Brings the connection's registers and client information to what this call needs. */
  async prepare(db: Db2Database, context?: CallContext): Promise<void> {
    let carried = this.carried.get(db);
    if (!carried) {
      await this.setUp(db);
      carried = { user: BLANK, workstation: BLANK, accounting: BLANK };
      this.carried.set(db, carried);
    }
    // Without a context the previous caller's identity is cleared, so operators never see it on work it did not ask for.
    const wanted = clientInfoFor(context);
    for (const key of ['user', 'workstation', 'accounting'] as const) {
      if (carried[key] === wanted[key]) continue;
      await setAttribute(db, CLIENT_INFO_ATTRIBUTES[key], wanted[key]);
      carried[key] = wanted[key];
    }
  }

  /** After a reroute: the member now serving the connection has seen none of it. */
  forget(db: Db2Database): void {
    this.carried.delete(db);
  }

  private async setUp(db: Db2Database): Promise<void> {
    const schema = `"${this.settings.schema}"`;
    await setAttribute(db, CLIENT_INFO_ATTRIBUTES.application, APPLICATION_NAME.slice(0, LIMITS.application));
    await this.run(db, `SET SCHEMA ${schema}`);
    await this.run(db, `SET PATH = SYSTEM PATH, ${schema}`);
    if (!this.lockTimeoutSupported) return;
    try {
      await this.run(db, `SET CURRENT LOCK TIMEOUT = ${this.settings.lockTimeoutSeconds}`);
    } catch (error) {
      const diagnostic = diagnosticOf(error);
      if (!unsupportedStatement(diagnostic)) throw error;
      // The server's own lock wait limit (IRLMRWT on z/OS) applies; the statement timeout still bounds every call.
      // Connections opened together all try: the first refusal is the one told.
      if (this.lockTimeoutSupported) this.warn('SET CURRENT LOCK TIMEOUT', diagnostic);
      this.lockTimeoutSupported = false;
    }
  }
}
