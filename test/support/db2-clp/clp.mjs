// A stand-in for the Db2 command line processor's front end (`db2`), for
// testing db/db2/deploy.sh where no Db2 can run. It behaves as IBM documents
// the CLP, never as a script would like it to; the database it talks to is
// server.mjs, kept in the directory named by DB2_STANDIN_STATE so one run sees
// what the last one left. Every call is logged there (calls.log).
//
// IBM pages it follows:
// - Technote swg21983930, "How does the DB2 Command Line Processor (CLP)
//   process model work?" (https://www-01.ibm.com/support/docview.wss?uid=swg21983930):
//   the short-lived front end finds the persistent back end, which holds the
//   connection, by "the parent process ID - typically the invoking shell -
//   along with the numeric user ID" (the back end's argument reads
//   "19743A631"). Here the connection is the file connections/<ppid>A<uid>.json:
//   a db2 whose parent is not the shell that connected (a pipe or function
//   inside $(...), a subshell that forks again) finds none and answers
//   SQL1024N, SQLSTATE 08003, as a real one does.
// - "Command line processor return codes"
//   (https://www.ibm.com/docs/en/db2/12.1.x?topic=clp-return-codes): 0 success,
//   1 a SELECT or FETCH returned no rows, 2 a warning, 4 a DB2 or SQL error,
//   8 a CLP system error; for an input file (-f) the code is "the logical OR
//   of the distinct codes returned from the individual commands".
// - "Command line processor options"
//   (https://www.ibm.com/docs/en/db2/11.5?topic=clp-options): -c autocommit
//   (default ON; +c or -c- turns it off, so COMMIT and ROLLBACK decide),
//   -f file input, -s stop at the first error in a file, -t ';' terminates
//   statements and -tdx makes x the terminator, -v echoes each statement,
//   -x prints rows without column headings; DB2OPTIONS sets options before
//   the command line does.
// - "Db2 Basics: Statement Terminators" (https://datageek.blog/en/2017/07/13/db2-basics-statement-terminators/,
//   with IBM's `db2 -td@ -vf`): the terminator ends a statement at the end
//   of a line ("DECLARE v_txt VARCHAR(128);--" does not end one).
// - "Using command line SQL statements and XQuery statements"
//   (https://www.ibm.com/support/knowledgecenter/SSEPGG_11.5.0/com.ibm.db2.luw.admin.cmd.doc/doc/r0002135.html)
//   and CONNECT (type 1) (https://www.ibm.com/support/knowledgecenter/SSEPGG_11.5.0/com.ibm.db2.luw.sql.ref.doc/doc/r0000906.html):
//   CONNECT TO server USER name [USING password]; without USING the CLP asks
//   for the password on the terminal (prompt printed on stdout, the answer
//   read from stdin); the connection lasts until CONNECT RESET (modelled as
//   committing open work, as TERMINATE is) or TERMINATE, which ends the back end.
// - CLP output: messages go to stdout, an SQL statement's message after
//   "DB21034E ... During SQL processing it returned:", success as
//   "DB20000I  The SQL command completed successfully.".
// The SQL answers (SQL0601N, SQL0204N, +562, ...) are server.mjs's; its
// header names their pages.
import { Buffer } from 'node:buffer';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { execute, identifier, NotModelled, stripComments } from './server.mjs';

const SUCCESS = 'DB20000I  The SQL command completed successfully.';
const SQL_PREFIX = 'DB21034E  The command was processed as an SQL statement because it was not a\n'
  + 'valid Command Line Processor command.  During SQL processing it returned:';

const stateDir = process.env.DB2_STANDIN_STATE;
if (!stateDir) {
  process.stderr.write('db2 stand-in: DB2_STANDIN_STATE names no state directory\n');
  process.exit(8);
}
const serverFile = join(stateDir, 'server.json');
const connectionFile = join(stateDir, 'connections', `${process.ppid}A${process.getuid?.() ?? 0}.json`);

const out = (text) => process.stdout.write(`${text}\n`);
const writeJson = (file, value) => {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 1));
  renameSync(`${file}.tmp`, file);
};
const readJson = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null);
const clone = (value) => JSON.parse(JSON.stringify(value));

/**
 * The CLP's option flags (IBM's table): a leading '-' turns one on, '+' or a
 * trailing '-' turns it off; DB2OPTIONS is read first, the command line overrides it.
 */
function parseOptions(commandLine) {
  const options = { autocommit: true, stopOnError: false, terminator: null, echo: false, noHeadings: false, file: null };
  const args = [...(process.env.DB2OPTIONS ?? '').split(/\s+/).filter(Boolean), ...commandLine];
  let i = 0;
  for (; i < args.length && /^[-+]./.test(args[i]); i += 1) {
    const arg = args[i];
    for (let j = 1; j < arg.length; j += 1) {
      const flag = arg[j].toLowerCase();
      const on = arg[0] === '-' && arg[j + 1] !== '-';
      if (arg[j + 1] === '-') j += 1;
      if (flag === 'c') options.autocommit = on;
      else if (flag === 's') options.stopOnError = on;
      else if (flag === 'v') options.echo = on;
      else if (flag === 'x') options.noHeadings = on;
      else if (flag === 't') {
        if (arg[j + 1]?.toLowerCase() === 'd' && arg[j + 2]) { options.terminator = arg[j + 2]; j += 2; } else options.terminator = on ? ';' : null;
      } else if (flag === 'f') {
        options.file = arg.slice(j + 1) || args[++i];
        break;
      } else throw new NotModelled(`CLP option ${arg}`);
    }
  }
  return { options, command: args.slice(i).join(' ') };
}

/** A file's statements: with a terminator, each ends at a line whose last non-blank character is it. */
function statementsOf(text, terminator) {
  if (!terminator) return text.split('\n').filter((line) => stripComments(line));
  const statements = [];
  let current = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trimEnd();
    if (trimmed.endsWith(terminator)) {
      current.push(trimmed.slice(0, -terminator.length));
      statements.push(current.join('\n'));
      current = [];
    } else current.push(line);
  }
  const rest = current.join('\n');
  if (stripComments(rest)) statements.push({ unterminated: rest });
  return statements.filter((s) => typeof s !== 'string' || stripComments(s));
}

function message({ sqlcode, sqlstate, text }) {
  const code = `SQL${String(Math.abs(sqlcode)).padStart(4, '0')}${sqlcode < 0 ? 'N' : 'W'}`;
  return `${code}  ${text}  SQLSTATE=${sqlstate}`;
}

function readPassword(user) {
  process.stdout.write(`Enter current password for ${user}: `);
  const byte = Buffer.alloc(1);
  let answer = '';
  const readByte = () => { try { return readSync(0, byte, 0, 1, null); } catch { return 0; } };
  while (readByte() === 1 && byte[0] !== 10) answer += byte.toString();
  out('');
  return answer.replace(/\r$/, '');
}

function showRows({ columns, rows }, noHeadings) {
  const cell = (value, column) => (value === null ? '-' : column.numeric ? String(value).padStart(11) : String(value));
  const widths = columns.map((c, i) => Math.max(c.numeric ? 11 : c.name.length, ...rows.map((r) => cell(r[i], c).length)));
  const line = (values) => values.map((v, i) => v.padEnd(widths[i])).join(' ').trimEnd();
  if (!noHeadings) out(`\n${line(columns.map((c) => c.name))}\n${line(widths.map((w) => '-'.repeat(w)))}`);
  for (const row of rows) out(line(row.map((v, i) => cell(v, columns[i]))));
  if (!noHeadings) out(`\n  ${rows.length} record(s) selected.\n`);
}

const server = readJson(serverFile) ?? { databases: {} };
let connection = readJson(connectionFile);
let serverChanged = false;

function commit() {
  if (connection.work) {
    server.databases[connection.database] = connection.work;
    serverChanged = true;
  }
  connection.work = null;
}

/** Runs one command or statement; answers its CLP return code. */
function run(text, options) {
  const sql = stripComments(text);
  const connect = /^CONNECT\s+TO\s+(\S+)(?:\s+USER\s+(\S+)(?:\s+USING\s+(\S+))?)?$/i.exec(sql);
  if (connect) {
    const [, alias, user, using] = connect;
    const db = server.databases[alias.toUpperCase()];
    if (!db) { out(message({ sqlcode: -1013, sqlstate: '42705', text: `The database alias name or database name "${alias.toUpperCase()}" could not be found.` })); return 4; }
    const password = user && using === undefined ? readPassword(user) : using;
    if (user && db.users[user.toUpperCase()] !== password) {
      out(message({ sqlcode: -30082, sqlstate: '08001', text: 'Security processing failed with reason "24" ("USERNAME AND/OR PASSWORD INVALID").' }));
      return 4;
    }
    const authid = user ? user.toUpperCase() : db.osUser;
    connection = { database: alias.toUpperCase(), authid, schema: authid, path: null, work: null };
    out(`\n   Database Connection Information\n\n Database server        = ${db.platform === 'zos' ? 'DB2 z/OS 13.1.5' : 'DB2/LINUXX8664 11.5.9.0'}`
      + `\n SQL authorization ID   = ${authid}\n Local database alias   = ${alias.toUpperCase()}\n`);
    return 0;
  }
  if (/^TERMINATE$/i.test(sql)) {
    if (connection) { commit(); connection = null; }
    out('DB20000I  The TERMINATE command completed successfully.');
    return 0;
  }
  if (!connection) {
    out(`${SQL_PREFIX}\n${message({ sqlcode: -1024, sqlstate: '08003', text: 'A database connection does not exist.' })}`);
    return 4;
  }
  if (/^CONNECT\s+RESET$/i.test(sql)) { commit(); connection = null; out(SUCCESS); return 0; }
  if (/^COMMIT(\s+WORK)?$/i.test(sql)) { commit(); out(SUCCESS); return 0; }
  if (/^ROLLBACK(\s+WORK)?$/i.test(sql)) { connection.work = null; out(SUCCESS); return 0; }
  const set = /^SET\s+(?:CURRENT\s+)?(SCHEMA|PATH)\s*=?\s*(.+)$/i.exec(sql);
  if (set) {
    if (set[1].toUpperCase() === 'PATH') connection.path = set[2];
    else connection.schema = set[2].startsWith("'") ? set[2].slice(1, -1) : identifier(set[2]);
    out(SUCCESS);
    return 0;
  }
  // Statement-level atomicity: a failing statement leaves the unit of work as it was.
  const candidate = clone(connection.work ?? server.databases[connection.database]);
  const result = execute(candidate, connection, sql);
  if (result.sqlcode < 0) {
    if (options.autocommit) connection.work = null;
    out(`${SQL_PREFIX}\n${message(result)}`);
    return 4;
  }
  connection.work = candidate;
  if (options.autocommit) commit();
  if (result.rows) {
    showRows(result, options.noHeadings);
    return result.rows.length ? 0 : 1;
  }
  if (result.sqlcode > 0) { out(`${SQL_PREFIX}\n${message(result)}`); return 2; }
  out(SUCCESS);
  return 0;
}

let code = 0;
const args = process.argv.slice(2);
appendFileSync(join(stateDir, 'calls.log'), `${JSON.stringify({ ppid: process.ppid, args, connected: Boolean(connection) })}\n`);
try {
  const { options, command } = parseOptions(args);
  if (options.file) {
    let text;
    try { text = readFileSync(options.file, 'utf8'); } catch {
      out(`DB21005E  An error occurred while accessing the file "${options.file}".`);
      code |= 8;
    }
    for (const statement of text === undefined ? [] : statementsOf(text, options.terminator)) {
      if (typeof statement !== 'string') {
        out(`${statement.unterminated.trim()}\nDB21007E  End of file reached while reading the command.`);
        code |= 4;
        break;
      }
      if (options.echo) out(statement.trim());
      const result = run(statement, options);
      code |= result;
      if (options.echo) out('');
      if (options.stopOnError && result >= 4) break;
    }
  } else {
    const text = options.terminator && command.trimEnd().endsWith(options.terminator) ? command.trimEnd().slice(0, -1) : command;
    if (options.echo) out(text);
    code = run(text, options);
  }
} catch (error) {
  if (!(error instanceof NotModelled)) throw error;
  process.stderr.write(`db2 stand-in: not modelled: ${error.message}\n`);
  code |= 8;
}
if (serverChanged) writeJson(serverFile, server);
if (connection) writeJson(connectionFile, connection);
else if (existsSync(connectionFile)) rmSync(connectionFile);
process.exitCode = code;
