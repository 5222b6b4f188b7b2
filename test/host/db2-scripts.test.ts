// The Db2 scripts as a DBA runs them: CLP-ready (`db2 -td@ -vf`), no
// template placeholders, no name Db2 for z/OS reserves, every procedure the
// API calls granted, and the grants naming only objects the scripts create.
// What Db2 itself would say of the SQL is not tested here (no engine).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { loadMigrations } from '../../db/migrate.js';
import { procedures } from '../../db/procedures.js';
import { statements } from '../../db/statements.js';
import { splitScript } from '../../db/db2/driver.js';

const reserved = new Set(readFileSync('test/fixtures/db2-zos-reserved-words.txt', 'utf8')
  .split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#')));

/** The names a script defines: tables, columns, indexes, constraints, routines, parameters, variables, loops. */
function definedNames(sql: string): string[] {
  // Comments out first: the placement marker after a column list, /* @IN */, is one.
  const text = sql.replace(/--.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/'(?:[^']|'')*'/g, "''");
  const names: string[] = [];
  const add = (name: string | undefined) => { if (name) names.push(name.toUpperCase()); };
  for (const [, table = '', body = ''] of text.matchAll(/CREATE TABLE (\w+)\s*\(([\s\S]*?)\)\s*(?:@|$)/gi)) {
    add(table);
    for (const item of body.split(/,(?![^(]*\))/)) {
      const [first, second] = item.trim().split(/\s+/);
      if (first?.toUpperCase() === 'CONSTRAINT') add(second);
      else if (!/^(PRIMARY|FOREIGN|UNIQUE|CHECK)$/i.test(first ?? '')) add(first);
    }
  }
  for (const [, index] of text.matchAll(/CREATE (?:UNIQUE )?INDEX (\w+)/gi)) add(index);
  for (const [, routine, parameters = ''] of text.matchAll(/CREATE (?:PROCEDURE|FUNCTION) (\w+)\s*\(([\s\S]*?)\)\s*(?:RETURNS|LANGUAGE)/gi)) {
    add(routine);
    for (const parameter of parameters.split(',')) add(/^\s*(?:IN|OUT|INOUT)?\s*(\w+)/i.exec(parameter)?.[1]);
  }
  for (const [, variable] of text.matchAll(/DECLARE (\w+) (?!CONTINUE|EXIT|HANDLER)/gi)) add(variable);
  for (const [, loop] of text.matchAll(/FOR (\w+) AS/gi)) add(loop);
  return names;
}

describe('Db2 scripts (db/db2)', () => {
  it('are CLP scripts: statements end with a line holding "@", no template placeholders, no schema in a name', async () => {
    for (const { version, sql } of await loadMigrations('db2')) {
      expect(sql, version).not.to.match(/\$\{/);
      expect(sql.trimEnd(), version).to.match(/\n@$/);
      const statementsOf = splitScript(sql);
      expect(statementsOf.length, version).to.be.greaterThan(0);
      for (const statement of statementsOf) {
        // Qualified names other than the catalog's dummy table would pin the schema.
        const qualified = [...statement.matchAll(/\b(?:TABLE|INTO|FROM|UPDATE|JOIN|CALL|ON|REFERENCES|PROCEDURE|FUNCTION)\s+(\w+)\.(\w+)/gi)]
          .filter(([, schema]) => schema?.toUpperCase() !== 'SYSIBM');
        expect(qualified.map(([match]) => match), `${version}: ${statement.slice(0, 60)}`).to.deep.equal([]);
      }
    }
  });

  it('end every procedure with a statement that cannot complete with SQLCODE +100 (ibm_db then returns no OUT values)', async () => {
    for (const { version, sql } of await loadMigrations('db2')) {
      for (const statement of splitScript(sql).filter((text) => /^\s*(?:--.*\n\s*)*CREATE PROCEDURE/i.test(text))) {
        const name = /CREATE PROCEDURE (\w+)/i.exec(statement)?.[1];
        const body = statement.replace(/--.*$/gm, '').trimEnd();
        expect(body, `${version} ${name}`).to.match(/\bEND$/);
        // The last statement before the closing END: an assignment, a single-row INSERT ... VALUES, or a
        // CALL of a procedure that ends so itself.
        const statements = body.slice(body.search(/\bBEGIN\b/) + 'BEGIN'.length, -'END'.length).split(';');
        const last = statements[statements.length - 2]?.trim() ?? '';
        expect(last, `${version} ${name}: last statement`).to.match(/^(SET\b|CALL AUDIT_WRITE\b|INSERT INTO \w+ \([^)]*\)\s*VALUES\b|END (IF|WHILE|FOR)\b)/i);
        if (/^END (IF|WHILE|FOR)/i.test(last)) {
          // An IF, WHILE or FOR last: each of its branches' last statements must be safe too.
          expect(body, `${version} ${name}`).not.to.match(/(DELETE|UPDATE|INSERT|SELECT)[^;]*;\s*END (IF|WHILE|FOR);\s*END$/i);
        }
      }
    }
  });

  it('name a column *_at exactly when it is a TIMESTAMP the statements may read (the driver answers those as Dates)', async () => {
    const sql = [...(await loadMigrations('db2')).map((m) => m.sql), readFileSync('db/db2/ledger.sql', 'utf8')].join('\n').replace(/--.*$/gm, '');
    const columns = [...sql.matchAll(/^\s+([A-Z_]+)\s+(TIMESTAMP|DATE|CHAR|VARCHAR|SMALLINT|INTEGER|BIGINT|DECIMAL)\b/gm)]
      .map(([, name = '', type = '']) => ({ name, type }));
    expect(columns.length).to.be.greaterThan(40);
    for (const { name, type } of columns.filter((c) => c.name.endsWith('_AT'))) expect(type, name).to.equal('TIMESTAMP');
    const otherTimestamps = columns.filter((c) => c.type === 'TIMESTAMP' && !c.name.endsWith('_AT')).map((c) => c.name);
    // Parameters and variables aside (P_*, V_*, O_*), only LOCKED_UNTIL, which only the procedures read.
    expect([...new Set(otherTimestamps.filter((name) => !/^[PVO]_/.test(name)))]).to.deep.equal(['LOCKED_UNTIL']);
    for (const { name, sql: text } of Object.values(statements)) expect(text, name).not.to.match(/locked_until/i);
  });

  it('define no name that Db2 for z/OS 12/13 reserves (AT, ROLE, DAY, SCRATCHPAD\u2026)', async () => {
    expect(reserved.size, 'the fixture list').to.be.greaterThan(250);
    for (const file of [...(await loadMigrations('db2')).map((m) => m.sql), readFileSync('db/db2/ledger.sql', 'utf8')]) {
      const clashes = definedNames(file).filter((name) => reserved.has(name));
      expect(clashes).to.deep.equal([]);
    }
  });

  it('use no column in the API\u2019s portable statements that z/OS reserves', () => {
    for (const { name, sql } of Object.values(statements)) {
      const words = sql.replace(/'[^']*'/g, '').match(/\b[a-z_]+\b/g) ?? [];
      const columns = words.filter((word) => word.includes('_') || ['at', 'role', 'day', 'scratchpad'].includes(word));
      expect(columns.filter((column) => reserved.has(column.toUpperCase())), name).to.deep.equal([]);
    }
  });

  it('send Db2 only forms documented for LUW and z/OS alike (docs/db2.md): no OFFSET, LIMIT, :: cast or bracketed comment', async () => {
    // z/OS takes OFFSET only in the outermost fullselect; LIMIT and :: are PostgreSQL's; not every
    // Db2 release takes a bracketed comment in a dynamic statement. The engines the suite runs
    // (PostgreSQL, PGlite) accept all of these, so only this test stands between them and a z/OS shop.
    for (const { name, sql } of Object.values(statements)) {
      expect(sql, name).not.to.match(/\b(?:OFFSET|LIMIT)\b|::|\/\*/i);
    }
    const sent = (await loadMigrations('db2')).flatMap((m) => splitScript(m.sql)).concat(splitScript(readFileSync('db/db2/ledger.sql', 'utf8')));
    for (const statement of sent) expect(statement, statement.slice(0, 60)).not.to.match(/\/\*|\bOFFSET\b|\bLIMIT\b|::/i);
  });

  it('grant EXECUTE on every procedure the API calls, and only on objects the scripts create', async () => {
    const grants = readFileSync('db/db2/grants.sql', 'utf8');
    const granted = [...grants.matchAll(/GRANT EXECUTE ON PROCEDURE (\w+)/g)].map(([, name]) => name?.toLowerCase());
    expect(granted.sort()).to.deep.equal(Object.keys(procedures).sort());
    const created = new Set((await loadMigrations('db2')).flatMap((m) => definedNames(m.sql))
      .concat(definedNames(readFileSync('db/db2/ledger.sql', 'utf8'))));
    for (const [, table] of grants.matchAll(/ON TABLE (\w+)/g)) expect(created.has(table ?? ''), table).to.equal(true);
  });
});
