// The procedure catalogue (db/procedures.ts) is what every driver builds its
// CALL from; the PL/pgSQL and SQL PL definitions must match it exactly.
import { expect } from 'chai';
import { loadMigrations } from '../../db/migrate.js';
import { OUT_TYPES } from '../../db/db2/driver.js';
import { procedures } from '../../db/procedures.js';

/** Procedures the host's own procedures call (a function in PL/pgSQL, a procedure in SQL PL). */
const HELPERS = ['audit_write', 'login_guard_acquire', 'login_guard_failure'];

interface Parsed {
  in: string[];
  out: string[];
  outTypes: Record<string, string>;
}

/** Procedure name → parameter lists, read from a dialect's migration files. */
async function definedProcedures(dialect: 'postgres' | 'db2'): Promise<Record<string, Parsed>> {
  const sql = (await loadMigrations(dialect)).map((m) => m.sql).join('\n');
  const found: Record<string, Parsed> = {};
  for (const [, procedure = '', parameters = ''] of sql.matchAll(/CREATE PROCEDURE (\w+)\s*\(([\s\S]*?)\)\s*(?:LANGUAGE|\n\s*LANGUAGE)/gi)) {
    const name = procedure.toLowerCase();
    const parsed: Parsed = { in: [], out: [], outTypes: {} };
    for (const raw of parameters.replace(/--.*$/gm, '').split(/,(?![^(]*\))/)) {
      const [, direction, rawName, type] = /^\s*(IN|OUT|INOUT)\s+(\w+)\s+([\w]+(?:\s*\([\d,\s]+\))?)/i.exec(raw) ?? [];
      if (!direction || !rawName || !type) throw new Error(`${dialect} ${name}: cannot read parameter "${raw.trim()}"`);
      const paramName = rawName.toLowerCase().replace(/^[po]_/, '');
      if (direction.toUpperCase() === 'IN') parsed.in.push(paramName);
      else {
        parsed.out.push(paramName);
        parsed.outTypes[paramName] = type.toUpperCase().replace(/\s+/g, '');
      }
    }
    found[name] = parsed;
  }
  // Helpers the procedures call, never the API.
  for (const helper of HELPERS) delete found[helper];
  return found;
}

describe('procedure catalogue', () => {
  for (const dialect of ['postgres', 'db2'] as const) {
    it(`matches the ${dialect} definitions: names, parameter order and direction`, async () => {
      const defined = await definedProcedures(dialect);
      expect(Object.keys(defined).sort()).to.deep.equal(Object.keys(procedures).sort());
      for (const [name, signature] of Object.entries(procedures)) {
        expect(defined[name]?.in, `${dialect} ${name} IN`).to.deep.equal([...signature.in]);
        expect(defined[name]?.out, `${dialect} ${name} OUT`).to.deep.equal([...signature.out]);
      }
    });
  }

  it('has the same parameter lists in both dialects', async () => {
    const [pg, db2] = await Promise.all([definedProcedures('postgres'), definedProcedures('db2')]);
    for (const name of Object.keys(procedures)) {
      expect({ in: db2[name]?.in, out: db2[name]?.out }, name).to.deep.equal({ in: pg[name]?.in, out: pg[name]?.out });
    }
  });

  it('binds every Db2 OUT parameter with the type its procedure declares', async () => {
    const db2 = await definedProcedures('db2');
    for (const [name, parsed] of Object.entries(db2)) {
      for (const [param, declared] of Object.entries(parsed.outTypes)) {
        const bound = OUT_TYPES[param];
        if (!bound) throw new Error(`${name}.${param}: no OUT type bound by the driver`);
        const base = declared.replace(/\(.*$/, '');
        expect(bound.type, `${name}.${param}`).to.equal(base);
        const length = /^(?:VAR)?CHAR\((\d+)\)$/.exec(declared)?.[1];
        if (length) expect(bound.length, `${name}.${param} length`).to.equal(Number(length));
      }
    }
  });
});
