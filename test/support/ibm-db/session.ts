// One connection as the CLI and the server keep it: the keywords it was
// opened with (connection string over db2cli.ini), its application code page,
// special registers, client information, autocommit, open statement handles,
// the member serving it, and a failure it has not noticed yet.
import { diagnostic, type Diagnostic } from './cli.js';
import { UTF8 } from './code-page.js';

export interface Registers {
  schema: string;
  path: string;
  /** CURRENT LOCK TIMEOUT in seconds; null: the database's LOCKTIMEOUT (here: wait forever). */
  lockTimeout: number | null;
}

export interface ClientInfo {
  user: string;
  workstation: string;
  application: string;
  accounting: string;
}

/** The CLI/ODBC keywords the stand-in acts on, with IBM's defaults. */
export interface CliKeywords {
  /**
   * DeferredPrepare (default 1): SQLPrepare sends nothing and "will always
   * return SQL_SUCCESS"; the errors it would give appear at execute. Off (0),
   * the statement goes to the server at SQLPrepare. IBM, "Deferred prepare":
   * https://www.ibm.com/support/knowledgecenter/en/SSEPGG_10.5.0/com.ibm.db2.luw.apdv.cli.doc/doc/c0007239.html
   */
  deferredPrepare: boolean;
  /**
   * QueryTimeoutInterval: seconds between the CLI's checks for statements past
   * SQL_ATTR_QUERY_TIMEOUT, so one is cancelled up to this much later. Default
   * 1 s (5 s up to Db2 9.7 fix pack 5). https://www.ibm.com/docs/en/db2/11.5.x?topic=keywords-querytimeoutinterval
   */
  queryTimeoutInterval: number;
}

export const CLI_DEFAULTS: CliKeywords = { deferredPrepare: true, queryTimeoutInterval: 1 };

/** KEY=value;… with {braced} values, keys upper-cased. */
export function connectionKeywords(connectionString: string): Map<string, string> {
  return new Map(connectionString.split(';').filter(Boolean).map((pair) => {
    const [key = '', ...rest] = pair.split('=');
    return [key.trim().toUpperCase(), rest.join('=').replace(/^\{(.*)\}$/, '$1')] as const;
  }));
}

/** Connection string keywords take precedence over db2cli.ini ("Connecting to databases for ODBC and CLI", Db2 11.5). */
export function cliKeywords(connection: Map<string, string>, ini: Partial<CliKeywords>): CliKeywords {
  const deferred = connection.get('DEFERREDPREPARE');
  const interval = connection.get('QUERYTIMEOUTINTERVAL');
  return {
    deferredPrepare: deferred === undefined ? ini.deferredPrepare ?? CLI_DEFAULTS.deferredPrepare : deferred.trim() !== '0',
    queryTimeoutInterval: interval === undefined ? ini.queryTimeoutInterval ?? CLI_DEFAULTS.queryTimeoutInterval : Number(interval),
  };
}

export const SYSTEM_PATH = '"SYSIBM","SYSFUN","SYSPROC","SYSIBMADM"';

export class Session {
  connected = false;
  /** Lost: every request answers this until the handle is disconnected. */
  lost: Diagnostic | null = null;
  /** Answered by the next request (a failover or a dropped connection the CLI has not noticed yet). */
  pending: Diagnostic | null = null;
  member = 'db2-a';
  autocommit = true;
  codePage = UTF8;
  keywords: CliKeywords = CLI_DEFAULTS;
  registers: Registers = { schema: '', path: '', lockTimeout: null };
  clientInfo: ClientInfo = { user: '', workstation: '', application: '', accounting: '' };
  defaults: Registers = { schema: '', path: '', lockTimeout: null };
  /** Statement handles allocated on this connection and not yet freed. */
  readonly statements = new Set<object>();
  constructor(readonly id: number) {}
}

function identifier(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith('"') ? trimmed.slice(1, -1) : trimmed.replace(/^'(.*)'$/, '$1').toUpperCase();
}

/**
 * SET SCHEMA, SET PATH and SET CURRENT LOCK TIMEOUT, which the server
 * answers itself: null when applied, a diagnostic when refused, undefined for
 * any other statement (the test's to answer).
 */
export function applyRegisterStatement(session: Session, sql: string, lockTimeoutRegister: boolean): Diagnostic | null | undefined {
  const schema = /^SET\s+(?:CURRENT\s+)?SCHEMA\s*=?\s*(.+)$/i.exec(sql);
  if (schema?.[1]) {
    session.registers.schema = identifier(schema[1]);
    return null;
  }
  const path = /^SET\s+(?:CURRENT\s+)?PATH\s*=?\s*(.+)$/i.exec(sql);
  if (path?.[1]) {
    session.registers.path = path[1].split(',').map((part) => part.trim())
      .map((part) => (/^SYSTEM\s+PATH$/i.test(part) ? SYSTEM_PATH : `"${identifier(part)}"`)).join(',');
    return null;
  }
  const lock = /^SET\s+CURRENT\s+LOCK\s+TIMEOUT\s*=?\s*(.+)$/i.exec(sql);
  if (lock?.[1]) {
    if (!lockTimeoutRegister) return diagnostic('42601', -104, 'An unexpected token "LOCK TIMEOUT" was found following "SET CURRENT".  Expected tokens may include:  "PACKAGESET".');
    const value = lock[1].trim().toUpperCase();
    session.registers.lockTimeout = value === 'NULL' ? null : value === 'NOT WAIT' ? 0 : value === 'WAIT' ? -1 : Number(value.replace(/^WAIT\s+/, ''));
    return null;
  }
  return undefined;
}
