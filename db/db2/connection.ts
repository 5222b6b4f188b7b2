// db2://user:password@host:port/database?schema=BANK&ssl=true&sslServerCertificate=/etc/ca.pem
// → an IBM CLI connection string, and the schema every connection works in.

export interface Db2Target {
  connectionString: string;
  schema: string;
  /** For logs: never the password. */
  description: string;
}

const IDENTIFIER = /^[A-Z][A-Z0-9_]{0,127}$/;

/** CLI keyword values may not contain ';' (the separator); braces quote everything else. */
function value(raw: string, name: string): string {
  if (raw.includes(';') || raw.includes('}')) throw new Error(`DB_URL: ${name} may not contain ; or }`);
  return /[{\s=]/.test(raw) ? `{${raw}}` : raw;
}

export function parseDb2Url(url: string): Db2Target {
  const parsed = new URL(url);
  if (parsed.protocol !== 'db2:') throw new Error('DB_URL: a Db2 URL starts with db2://');
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new Error('DB_URL: the Db2 URL names no database (db2://user:pass@host:port/DATABASE)');
  const user = decodeURIComponent(parsed.username);
  const schema = (parsed.searchParams.get('schema') ?? user).toUpperCase();
  if (!IDENTIFIER.test(schema)) throw new Error('DB_URL: schema must be a plain Db2 identifier');
  const ssl = ['true', '1', 'yes'].includes((parsed.searchParams.get('ssl') ?? '').toLowerCase());
  const port = parsed.port || (ssl ? '50001' : '50000');
  const parts = [
    `DATABASE=${value(database, 'database')}`,
    `HOSTNAME=${value(parsed.hostname, 'host')}`,
    `PORT=${port}`,
    'PROTOCOL=TCPIP',
    `UID=${value(user, 'user')}`,
    `PWD=${value(decodeURIComponent(parsed.password), 'password')}`,
    `CURRENTSCHEMA=${schema}`,
    // The CLI cancels a statement past SQL_ATTR_QUERY_TIMEOUT only when its timeout thread next looks,
    // every QueryTimeoutInterval seconds (default 1 s, 5 s before Db2 9.7 FP6; db2cli.ini may say more):
    // pinned here, over db2cli.ini, so a statement timeout of N s ends within N + 1 s.
    'QueryTimeoutInterval=1',
  ];
  if (ssl) {
    // Without hostname validation any certificate the CA signed would do, for any host (CLI default: OFF).
    parts.push('SECURITY=SSL', 'SSLClientHostnameValidation=Basic');
    const certificate = parsed.searchParams.get('sslServerCertificate');
    if (certificate) parts.push(`SSLSERVERCERTIFICATE=${value(certificate, 'sslServerCertificate')}`);
  }
  return {
    connectionString: `${parts.join(';')};`,
    schema,
    description: `Db2 ${parsed.hostname}:${port}/${database} schema ${schema}${ssl ? ' (TLS)' : ''}`,
  };
}
