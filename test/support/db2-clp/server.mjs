// The database behind the CLP stand-in (clp.mjs): just enough of Db2 for LUW
// and Db2 for z/OS to answer, as IBM documents, what db/db2/deploy.sh and its
// scripts send. It keeps names, not data: tables with their columns, keys and
// placement, indexes, routines (by name and parameter count: SQL PL is not
// compiled), roles, grants, and the rows of tables the deploy writes
// (SCHEMA_MIGRATION). Anything else is refused as "not modelled", loudly,
// so a script cannot pass by leaning on behaviour nobody checked.
//
// IBM pages followed (messages as the LUW CLP prints them, SQLSTATEs from the
// message pages):
// - -601, "THE NAME ... OF THE OBJECT TO BE DEFINED ... IS IDENTICAL TO THE
//   EXISTING NAME", SQLSTATE 42710, for a CREATE of a table, index or role
//   that exists (https://www.ibm.com/support/knowledgecenter/SSEPEK_12.0.0/codes/src/tpc/n601.html).
// - -204, "name IS AN UNDEFINED NAME", SQLSTATE 42704, for any missing object:
//   table, table space, database, role, routine, SYSCAT view on z/OS
//   (https://www.ibm.com/docs/en/db2-for-zos/13?topic=esc-204).
// - +562, "A GRANT OF A PRIVILEGE WAS IGNORED BECAUSE THE GRANTEE ALREADY HAS
//   THE PRIVILEGE FROM THE GRANTOR", SQLSTATE 01560, a warning: CLP exit code 2
//   (https://www.ibm.com/support/knowledgecenter/en/SSEPEK_10.0.0/codes/src/tpc/p562.html).
//   Db2 for LUW's GRANT pages document no condition for a privilege held
//   already: a repeated grant is modelled there as a plain success (unproven).
// - -554, "AN AUTHORIZATION ID OR ROLE CANNOT GRANT A PRIVILEGE TO ITSELF",
//   SQLSTATE 42502 (https://www.ibm.com/support/knowledgecenter/SSEPEK_10.0.0/codes/src/tpc/n554.html).
// - -646, a table space that "already contains a table" (partitioned ones,
//   every universal table space of Db2 12 included), SQLSTATE 55017
//   (https://www.ibm.com/support/knowledgecenter/SSEPEK_12.0.0/codes/src/tpc/n646.html).
// - GRANT (role) and GRANT (table, view, or nickname privileges) on LUW: a
//   ROLE grantee "must identify an existing role at the current server
//   (SQLSTATE 42704)"; USER and GROUP are LUW keywords
//   (https://www.ibm.com/docs/en/SSEPGG_11.5.0/com.ibm.db2.luw.sql.ref.doc/doc/r0050616.html,
//   https://www.ibm.com/docs/SSEPGG_11.5.0/com.ibm.db2.luw.sql.ref.doc/doc/r0000966.html).
//   Db2 for z/OS's GRANT names an authorization-name, ROLE role-name or
//   PUBLIC, so USER or GROUP there is a syntax error, SQL0104N
//   (https://www.ibm.com/docs/SSEPEK_13.0.0/sqlref/src/tpc/db2z_sql_grant.html).
// - Catalog: SYSCAT.ROLES, one row per role, ROLENAME
//   (https://www.ibm.com/support/knowledgecenter/en/SSEPGG_11.1.0/com.ibm.db2.luw.sql.ref.doc/doc/r0050612.html);
//   on z/OS SYSIBM.SYSROLES (NAME), SYSIBM.SYSDATABASE (NAME) and no SYSCAT
//   schema; SYSIBM.SYSTABLES (NAME, CREATOR, TYPE) on both, LUW's listing
//   its SYSCAT views too; SYSCAT.TABLESPACES (TBSPACE) on LUW.
// - "Roles in a trusted context" (z/OS): "A role is available only in a
//   trusted context" (https://ibm.com/docs/SSEPEK_13.0.0/seca/src/tpc/db2z_roles.html).
// - "Implicitly defined table spaces" (z/OS): CREATE TABLE ... IN DATABASE d
//   puts the table in a table space Db2 creates in d; without IN, Db2 also
//   creates the database (https://www.ibm.com/docs/en/SSEPEK_12.0.0/admin/src/tpc/db2z_implicitlydefinedtablespaces.html).
//   On LUW, CREATE TABLE ... IN names one table space (SQL0104N for more).

export class NotModelled extends Error {}

/** A statement's outcome: an error (negative SQLCODE), a warning, or success (with rows for a query). */
export const ok = (extra = {}) => ({ sqlcode: 0, ...extra });
const sqlError = (sqlcode, sqlstate, text) => ({ sqlcode, sqlstate, text });

const errors = {
  exists: (name, type) => sqlError(-601, '42710',
    `The name of the object to be created is identical to the existing name "${name}" of type "${type}".`),
  undefined: (name) => sqlError(-204, '42704', `"${name}" is an undefined name.`),
  column: (column, table) => sqlError(-205, '42703', `Column, attribute, or period "${column}" is not defined in "${table}".`),
  notValid: (name) => sqlError(-206, '42703', `"${name}" is not valid in the context where it is used.`),
  token: (token, after) => sqlError(-104, '42601',
    `An unexpected token "${token}" was found following "${after}".  Expected tokens may include:  "<identifier>".`),
  duplicateKey: (table) => sqlError(-803, '23505',
    'One or more values in the INSERT statement, UPDATE statement, or foreign key update caused by a DELETE '
    + `statement are not valid because the primary key, unique constraint or unique index identified by "1" `
    + `constrains table "${table}" from having duplicate values for the index key.`),
  signature: (name) => sqlError(-454, '42723',
    `The signature provided in the definition for routine "${name}" matches the signature of some other routine `
    + 'that already exists in the schema or for the type.'),
  grantToSelf: () => sqlError(-554, '42502', 'An authorization ID cannot grant a privilege or authority to itself.'),
  grantHeld: () => sqlError(562, '01560',
    'A grant of a privilege was ignored because the grantee already has the privilege from the grantor.'),
  tableSpaceFull: (table, space) => sqlError(-646, '55017',
    `Table "${table}" cannot be created in table space "${space}" because it already contains a table.`),
};

// ---- text --------------------------------------------------------------

/** The statement without comments (-- to end of line, and bracketed), strings and quoted names kept. */
export function stripComments(sql) {
  let out = '';
  for (let i = 0; i < sql.length;) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = closingQuote(sql, i);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i += 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      out += ' ';
    } else {
      out += c;
      i += 1;
    }
  }
  return out.replace(/\s+/g, ' ').trim();
}

function closingQuote(text, start) {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else i += 1;
  }
  return text.length;
}

/** Index just past the parenthesis that closes the one at `open`, strings respected. */
function matchingParen(text, open) {
  let depth = 0;
  for (let i = open; i < text.length;) {
    const c = text[i];
    if (c === "'" || c === '"') { i = closingQuote(text, i); continue; }
    if (c === '(') depth += 1;
    if (c === ')') { depth -= 1; if (depth === 0) return i + 1; }
    i += 1;
  }
  throw new NotModelled(`unbalanced parentheses: ${text}`);
}

/** Splits at commas outside parentheses and strings. */
function topLevelItems(text) {
  const items = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (c === "'" || c === '"') { i = closingQuote(text, i); continue; }
    if (c === '(') depth += 1;
    if (c === ')') depth -= 1;
    if (c === ',' && depth === 0) { items.push(text.slice(start, i).trim()); start = i + 1; }
    i += 1;
  }
  const last = text.slice(start).trim();
  if (last) items.push(last);
  return items;
}

const ID = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_$#@][A-Za-z0-9_$#@]*)`;
const QNAME = String.raw`${ID}(?:\s*\.\s*${ID})?`;
const LITERAL = String.raw`'(?:[^']|'')*'`;

/** An identifier as Db2 stores it: unquoted folded to upper case, quoted kept as written. */
export function identifier(token) {
  const t = token.trim();
  return t.startsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t.toUpperCase();
}

function qualified(token, schema) {
  const parts = token.match(new RegExp(ID, 'g')) ?? [];
  return parts.length === 2
    ? { schema: identifier(parts[0]), name: identifier(parts[1]) }
    : { schema, name: identifier(parts[0]) };
}

const literal = (token) => token.slice(1, -1).replace(/''/g, "'");
const display = ({ schema, name }) => `${schema}.${name}`;

// ---- the catalog ---------------------------------------------------------

const SYSCAT_VIEWS = ['TABLES', 'ROLES', 'ROLEAUTH', 'ROUTINES', 'TABAUTH', 'TABLESPACES'];
const SYSIBM_TABLES = {
  luw: ['SYSTABLES', 'SYSROLES', 'SYSDUMMY1'],
  zos: ['SYSTABLES', 'SYSROLES', 'SYSDATABASE', 'SYSDUMMY1', 'SYSTABLESPACE'],
};

function userTables(db) {
  return Object.entries(db.schemas).flatMap(([schema, s]) =>
    Object.keys(s.tables).map((name) => ({ NAME: name, CREATOR: schema, TYPE: 'T' })));
}

/** The catalog tables and views each platform answers, with the columns modelled. */
const catalog = {
  'SYSIBM.SYSTABLES': {
    platforms: ['luw', 'zos'],
    columns: ['NAME', 'CREATOR', 'TYPE'],
    rows: (db) => [
      ...userTables(db),
      ...SYSIBM_TABLES[db.platform].map((name) => ({ NAME: name, CREATOR: 'SYSIBM', TYPE: 'T' })),
      ...(db.platform === 'luw' ? SYSCAT_VIEWS.map((name) => ({ NAME: name, CREATOR: 'SYSCAT', TYPE: 'V' })) : []),
    ],
  },
  'SYSCAT.ROLES': { platforms: ['luw'], columns: ['ROLENAME'], rows: (db) => db.roles.map((r) => ({ ROLENAME: r })) },
  'SYSIBM.SYSROLES': { platforms: ['zos'], columns: ['NAME'], rows: (db) => db.roles.map((r) => ({ NAME: r })) },
  'SYSCAT.TABLESPACES': {
    platforms: ['luw'], columns: ['TBSPACE'], rows: (db) => db.tablespaces.map((t) => ({ TBSPACE: t })),
  },
  'SYSIBM.SYSDATABASE': {
    platforms: ['zos'], columns: ['NAME'], rows: (db) => db.zosDatabases.map((d) => ({ NAME: d })),
  },
};

/** Rows and columns of a table or catalog view, or the error naming it. */
function relation(db, ref) {
  const key = display(ref);
  const view = catalog[key];
  if (view) {
    if (!view.platforms.includes(db.platform)) {
      if (ref.schema === 'SYSCAT' && db.platform === 'zos') return { error: errors.undefined(key) };
      throw new NotModelled(`${key} on ${db.platform}`);
    }
    return { columns: view.columns, rows: view.rows(db) };
  }
  if (ref.schema === 'SYSIBM' || ref.schema === 'SYSCAT') throw new NotModelled(`catalog ${key}`);
  const table = db.schemas[ref.schema]?.tables[ref.name];
  if (!table) return { error: errors.undefined(key) };
  return { columns: table.columns, rows: table.rows, table };
}

// ---- statements ------------------------------------------------------------

/**
 * Runs one SQL statement against `db` (the connection's working copy, changed
 * in place) for `session` ({ authid, schema }). Returns { sqlcode, sqlstate,
 * text } for an error or warning, or ok({ columns, rows }) for a query.
 */
export function execute(db, session, statement) {
  const sql = stripComments(statement);
  const handlers = [
    [/^SELECT\s/i, select],
    [/^INSERT\s+INTO\s/i, insert],
    [/^CREATE\s+TABLE\s/i, createTable],
    [/^CREATE\s+(?:UNIQUE\s+)?INDEX\s/i, createIndex],
    [/^CREATE\s+(?:PROCEDURE|FUNCTION)\s/i, createRoutine],
    [/^CREATE\s+ROLE\s/i, createRole],
    [/^GRANT\s/i, grant],
  ];
  for (const [pattern, handler] of handlers) {
    if (pattern.test(sql)) return handler(db, session, sql);
  }
  throw new NotModelled(sql);
}

function conditions(where, columns) {
  if (!where) return { test: () => true };
  const tests = [];
  for (const part of where.split(/\s+AND\s+/i)) {
    let m = new RegExp(String.raw`^(${ID})\s*=\s*(${LITERAL})$`).exec(part.trim());
    if (m) {
      const [column, value] = [identifier(m[1]), literal(m[2])];
      if (!columns.includes(column)) return { error: errors.notValid(column) };
      tests.push((row) => row[column] === value);
      continue;
    }
    m = new RegExp(String.raw`^(${ID})\s+IN\s*\(((?:\s*${LITERAL}\s*,)*\s*${LITERAL}\s*)\)$`, 'i').exec(part.trim());
    if (m) {
      const column = identifier(m[1]);
      if (!columns.includes(column)) return { error: errors.notValid(column) };
      const values = topLevelItems(m[2]).map(literal);
      tests.push((row) => values.includes(row[column]));
      continue;
    }
    throw new NotModelled(`WHERE ${part}`);
  }
  return { test: (row) => tests.every((t) => t(row)) };
}

function select(db, session, sql) {
  const m = new RegExp(String.raw`^SELECT\s+(.+?)\s+FROM\s+(${QNAME})(?:\s+WHERE\s+(.+))?$`, 'i').exec(sql);
  if (!m) throw new NotModelled(sql);
  const from = relation(db, qualified(m[2], session.schema));
  if (from.error) return from.error;
  const where = conditions(m[3], from.columns);
  if (where.error) return where.error;
  const rows = from.rows.filter(where.test);
  if (/^COUNT\s*\(\s*\*\s*\)$/i.test(m[1])) return ok({ columns: [{ name: '1', numeric: true }], rows: [[rows.length]] });
  const wanted = topLevelItems(m[1]).map(identifier);
  const unknown = wanted.find((c) => !from.columns.includes(c));
  if (unknown) return errors.notValid(unknown);
  return ok({ columns: wanted.map((name) => ({ name })), rows: rows.map((row) => wanted.map((c) => row[c] ?? null)) });
}

function insert(db, session, sql) {
  const m = new RegExp(String.raw`^INSERT\s+INTO\s+(${QNAME})\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)$`, 'i').exec(sql);
  if (!m) throw new NotModelled(sql);
  const ref = qualified(m[1], session.schema);
  const into = relation(db, ref);
  if (into.error) return into.error;
  if (!into.table) throw new NotModelled(`INSERT into the catalog: ${sql}`);
  const columns = topLevelItems(m[2]).map(identifier);
  const values = topLevelItems(m[3]).map((v) => {
    if (new RegExp(`^${LITERAL}$`).test(v)) return literal(v);
    if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
    throw new NotModelled(`value ${v}`);
  });
  if (values.length !== columns.length) return sqlError(-117, '42802', 'The number of values assigned is not the same as the number of specified or implied columns or variables.');
  const unknown = columns.find((c) => !into.columns.includes(c));
  if (unknown) return errors.column(unknown, display(ref));
  const row = Object.fromEntries(columns.map((c, i) => [c, values[i]]));
  const key = into.table.primaryKey;
  if (key.length && into.rows.some((r) => key.every((c) => r[c] === row[c]))) return errors.duplicateKey(display(ref));
  into.rows.push(row);
  return ok();
}

function schemaOf(db, name) {
  db.schemas[name] ??= { tables: {}, indexes: {}, routines: {} };
  return db.schemas[name];
}

/** The table's placement: LUW "IN tablespace"; z/OS "IN DATABASE d", "IN d.ts" or "IN ts" (database DSNDB04). */
function placement(db, table, rest) {
  if (!rest) return { where: null };
  const database = new RegExp(String.raw`^IN\s+DATABASE\s+(${ID})$`, 'i').exec(rest);
  const space = new RegExp(String.raw`^IN\s+(${ID})(?:\s*\.\s*(${ID}))?$`, 'i').exec(rest);
  if (db.platform === 'luw') {
    if (database) return { error: errors.token(database[1], 'DATABASE') };
    if (!space) throw new NotModelled(`CREATE TABLE ... ${rest}`);
    if (space[2]) return { error: errors.token('.', space[1]) };
    const name = identifier(space[1]);
    if (!db.tablespaces.includes(name)) return { error: errors.undefined(name) };
    return { where: name };
  }
  if (database) {
    const name = identifier(database[1]);
    if (!db.zosDatabases.includes(name)) return { error: errors.undefined(name) };
    return { where: `DATABASE ${name}` };
  }
  if (!space) throw new NotModelled(`CREATE TABLE ... ${rest}`);
  const name = space[2] ? `${identifier(space[1])}.${identifier(space[2])}` : `DSNDB04.${identifier(space[1])}`;
  if (!db.tablespaces.includes(name)) return { error: errors.undefined(name) };
  const occupant = Object.values(db.schemas).flatMap((s) => Object.entries(s.tables)).find(([, t]) => t.placement === name);
  if (occupant) return { error: errors.tableSpaceFull(table, name) };
  return { where: name };
}

function createTable(db, session, sql) {
  const m = new RegExp(String.raw`^CREATE\s+TABLE\s+(${QNAME})\s*\(`, 'i').exec(sql);
  if (!m) throw new NotModelled(sql);
  const ref = qualified(m[1], session.schema);
  const open = m[0].length - 1;
  const close = matchingParen(sql, open);
  const body = sql.slice(open + 1, close - 1);
  const rest = sql.slice(close).trim();
  if (db.schemas[ref.schema]?.tables[ref.name]) return errors.exists(display(ref), 'TABLE');
  const columns = [];
  let primaryKey = [];
  const references = [];
  for (const item of topLevelItems(body)) {
    const constraint = item.replace(new RegExp(String.raw`^CONSTRAINT\s+${ID}\s+`, 'i'), '');
    const key = /^PRIMARY\s+KEY\s*\(([^)]*)\)/i.exec(constraint);
    if (key) primaryKey = topLevelItems(key[1]).map(identifier);
    if (/^(PRIMARY|FOREIGN|UNIQUE|CHECK)\b/i.test(constraint)) {
      for (const r of constraint.matchAll(new RegExp(String.raw`REFERENCES\s+(${QNAME})`, 'gi'))) references.push(r[1]);
      continue;
    }
    const column = new RegExp(`^(${ID})`).exec(item);
    if (!column) throw new NotModelled(`column ${item}`);
    columns.push(identifier(column[1]));
    if (/\bPRIMARY\s+KEY\b/i.test(item)) primaryKey = [identifier(column[1])];
    for (const r of item.matchAll(new RegExp(String.raw`REFERENCES\s+(${QNAME})`, 'gi'))) references.push(r[1]);
  }
  for (const parent of references.map((r) => qualified(r, session.schema))) {
    const self = parent.schema === ref.schema && parent.name === ref.name;
    if (!self && !db.schemas[parent.schema]?.tables[parent.name]) return errors.undefined(display(parent));
  }
  const missingKey = primaryKey.find((c) => !columns.includes(c));
  if (missingKey) return errors.column(missingKey, display(ref));
  const where = placement(db, ref.name, rest);
  if (where.error) return where.error;
  schemaOf(db, ref.schema).tables[ref.name] = { columns, primaryKey, placement: where.where, rows: [] };
  return ok();
}

function createIndex(db, session, sql) {
  const m = new RegExp(String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(${QNAME})\s+ON\s+(${QNAME})\s*\(([^)]*)\)$`, 'i').exec(sql);
  if (!m) throw new NotModelled(sql);
  const index = qualified(m[1], session.schema);
  const on = qualified(m[2], session.schema);
  const table = db.schemas[on.schema]?.tables[on.name];
  if (!table) return errors.undefined(display(on));
  if (db.schemas[index.schema]?.indexes[index.name]) return errors.exists(display(index), 'INDEX');
  const columns = topLevelItems(m[3]).map((c) => identifier(c.replace(/\s+(ASC|DESC)$/i, '')));
  const unknown = columns.find((c) => !table.columns.includes(c));
  if (unknown) return errors.column(unknown, display(on));
  schemaOf(db, index.schema).indexes[index.name] = { table: display(on), columns };
  return ok();
}

function createRoutine(db, session, sql) {
  const m = new RegExp(String.raw`^CREATE\s+(PROCEDURE|FUNCTION)\s+(${QNAME})\s*\(`, 'i').exec(sql);
  if (!m) throw new NotModelled(sql);
  const kind = m[1].toUpperCase();
  const ref = qualified(m[2], session.schema);
  const open = m[0].length - 1;
  const parameters = topLevelItems(sql.slice(open + 1, matchingParen(sql, open) - 1)).length;
  const routines = schemaOf(db, ref.schema).routines;
  const same = (routines[ref.name] ?? []).find((r) => r.kind === kind && r.parameters === parameters);
  if (same) return errors.signature(display(ref));
  routines[ref.name] = [...(routines[ref.name] ?? []), { kind, parameters }];
  return ok();
}

function createRole(db, _session, sql) {
  const m = new RegExp(`^CREATE\\s+ROLE\\s+(${ID})$`, 'i').exec(sql);
  if (!m) throw new NotModelled(sql);
  const role = identifier(m[1]);
  if (db.roles.includes(role)) return errors.exists(role, 'ROLE');
  db.roles.push(role);
  return ok();
}

function grant(db, session, sql) {
  const m = new RegExp(String.raw`^GRANT\s+(.+?)\s+ON\s+(?:(TABLE|PROCEDURE|FUNCTION)\s+)?(${QNAME})\s+TO\s+(.+?)(\s+WITH\s+GRANT\s+OPTION)?$`, 'i').exec(sql);
  if (!m) throw new NotModelled(sql);
  const objectType = (m[2] ?? 'TABLE').toUpperCase();
  const ref = qualified(m[3], session.schema);
  const grantees = [];
  for (const item of topLevelItems(m[4])) {
    const g = new RegExp(`^(?:(USER|GROUP|ROLE)\\s+)?(${ID})$`, 'i').exec(item);
    if (!g) throw new NotModelled(`grantee ${item}`);
    const type = g[1]?.toUpperCase() ?? (identifier(g[2]) === 'PUBLIC' ? 'PUBLIC' : 'AUTHID');
    // z/OS's GRANT knows authorization-name, ROLE role-name and PUBLIC: USER and GROUP are LUW's.
    if (db.platform === 'zos' && (type === 'USER' || type === 'GROUP')) return errors.token(g[2], g[1]);
    grantees.push({ type, name: identifier(g[2]) });
  }
  const privileges = topLevelItems(m[1]).map((p) => {
    const pm = /^(\w+)(?:\s*\(([^)]*)\))?$/.exec(p);
    if (!pm) throw new NotModelled(`privilege ${p}`);
    return { privilege: pm[1].toUpperCase(), columns: pm[2] ? topLevelItems(pm[2]).map(identifier) : [] };
  });
  if (objectType === 'TABLE') {
    const table = db.schemas[ref.schema]?.tables[ref.name];
    if (!table) return errors.undefined(display(ref));
    for (const { privilege, columns } of privileges) {
      if (!['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'ALTER', 'INDEX'].includes(privilege)) throw new NotModelled(`privilege ${privilege}`);
      const unknown = columns.find((c) => !table.columns.includes(c));
      if (unknown) return errors.column(unknown, display(ref));
    }
  } else {
    const routine = (db.schemas[ref.schema]?.routines[ref.name] ?? []).find((r) => r.kind === objectType);
    if (!routine) return errors.undefined(display(ref));
    if (privileges.some((p) => p.privilege !== 'EXECUTE')) throw new NotModelled(`privileges on a ${objectType}`);
  }
  for (const g of grantees) {
    if (g.type === 'ROLE' && !db.roles.includes(g.name)) return errors.undefined(g.name);
    if ((g.type === 'USER' || g.type === 'AUTHID') && g.name === session.authid) return errors.grantToSelf();
  }
  let held = false;
  for (const g of grantees) {
    for (const { privilege, columns } of privileges) {
      const row = {
        grantor: session.authid, granteeType: g.type, grantee: g.name,
        privilege: columns.length ? `${privilege} (${columns.join(', ')})` : privilege,
        objectType, object: display(ref),
      };
      const same = db.grants.some((x) => Object.keys(row).every((k) => x[k] === row[k]));
      if (same) held = true;
      else db.grants.push(row);
    }
  }
  return held && db.platform === 'zos' ? errors.grantHeld() : ok();
}
