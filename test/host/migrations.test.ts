// PostgreSQL migrations: a new host runs one baseline, an older host is
// brought to it by the rest of the old chain (db/pg/upgrades), and both end
// with the same schema. Each test starts from an empty second host of the
// run's kind (an in-memory PGlite, or a database of its own with TEST_HOST=postgres).
import { expect } from 'chai';
import { readdir } from 'node:fs/promises';
import { pinDigesterFor } from '../../auth/pin.js';
import type { Host } from '../../db/host.js';
import { checkSchema, loadMigrations, loadUpgrades, migrate, SchemaBehind, type Migration } from '../../db/migrate.js';
import { openHost } from '../../db/open.js';
import { createPgDatabase, sharedHost, TEST_HOST, TEST_KDF_COST, TEST_PIN_PEPPER } from '../support/host.js';

/** The schema as the catalog describes it, the ledger left out; lists in a fixed order, columns in table order. */
const CATALOG = {
  relations: `SELECT relname || ' ' || relkind::text AS item FROM pg_class
     WHERE relnamespace = current_schema()::regnamespace AND relname NOT LIKE 'schema\\_migration%' ORDER BY 1`,
  columns: `SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
          || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
          || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
          || CASE a.attidentity WHEN 'a' THEN ' IDENTITY ALWAYS' WHEN 'd' THEN ' IDENTITY BY DEFAULT' ELSE '' END AS item
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname <> 'schema_migration'
       AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY c.relname, a.attnum`,
  constraints: `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS item FROM pg_constraint
     WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text <> 'schema_migration' ORDER BY 1`,
  indexes: `SELECT indexdef AS item FROM pg_indexes
     WHERE schemaname = current_schema() AND tablename <> 'schema_migration' ORDER BY indexname`,
  routines: `SELECT pg_get_functiondef(oid) AS item FROM pg_proc
     WHERE pronamespace = current_schema()::regnamespace ORDER BY proname, pg_get_function_identity_arguments(oid)`,
};

type Schema = Record<keyof typeof CATALOG, string[]>;

async function schemaOf(host: Host): Promise<Schema> {
  const schema: Partial<Schema> = {};
  for (const [part, sql] of Object.entries(CATALOG) as [keyof Schema, string][]) {
    schema[part] = (await host.query({ name: `test.schema.${part}`, sql }, [])).map((row) => String(row.item));
  }
  return schema as Schema;
}

async function ledger(host: Host): Promise<string[]> {
  return [...await host.appliedMigrations()].sort();
}

/** What checkSchema says: null when it accepts the host, else the versions it lacks. */
async function lacking(host: Host): Promise<string[] | null> {
  try {
    await checkSchema(host);
    return null;
  } catch (error) {
    if (error instanceof SchemaBehind) return error.missing;
    throw error;
  }
}

describe('PostgreSQL migrations: one baseline, and upgrades for older hosts', function () {
  this.timeout(120_000);
  let host: Host;
  let drop: (() => Promise<void>) | undefined;
  let baseline: Migration;
  let history: Migration[];
  /** The run's own host, which migrate() built from the baseline. */
  let expected: Schema;

  before(async function () {
    if (TEST_HOST === 'db2') this.skip();
    [baseline] = await loadMigrations('postgres') as [Migration];
    history = await loadUpgrades('postgres', baseline.replaces);
    expected = await schemaOf(await sharedHost());
    if (TEST_HOST === 'postgres') {
      const database = await createPgDatabase();
      drop = database.drop;
      host = await openHost(database.url, { poolSize: 2, acquireTimeoutMs: 5000, statementTimeoutMs: 20_000, lockTimeoutMs: 15_000 });
    } else {
      host = await openHost('pglite:memory');
    }
  });

  after(async () => {
    await host?.close();
    await drop?.();
  });

  beforeEach(() => host.runScript('DROP SCHEMA public CASCADE; CREATE SCHEMA public'));

  /** A host as the old code left it: the first `count` files of the chain applied and recorded. */
  async function hostAt(count: number): Promise<void> {
    await host.prepareMigrations();
    for (const upgrade of history.slice(0, count)) expect(await host.applyMigration(upgrade.version, upgrade.sql)).to.equal(true);
  }

  it('is one file, a baseline replacing exactly the files of db/pg/upgrades, in order', async () => {
    expect((await loadMigrations('postgres')).map((m) => m.version)).to.deep.equal(['001_baseline']);
    const files = (await readdir('db/pg/upgrades')).filter((f) => f.endsWith('.sql')).sort();
    expect(baseline.replaces).to.deep.equal(files.map((f) => f.replace(/\.sql$/, '')));
  });

  it('builds the schema the whole old chain builds: tables, columns, constraints, indexes and routines', async () => {
    expect(expected.relations).to.include.members(['login_guard r', 'known_device r', 'audit_log_audit_id_seq S']);
    expect(expected.routines).to.have.length(15);
    for (const upgrade of history) await host.runScript(upgrade.sql);
    expect(await schemaOf(host)).to.deep.equal(expected);
  });

  it('gives a new host one migration, the baseline, and the demo data', async () => {
    expect(await lacking(host)).to.deep.equal(['001_baseline']);
    const digester = pinDigesterFor(TEST_PIN_PEPPER, TEST_KDF_COST);
    expect(await migrate(host, { seedDemoData: digester })).to.deep.equal({ applied: ['001_baseline'], seeded: true });
    expect(await ledger(host)).to.deep.equal(['001_baseline', 'seed-demo']);
    const [customers] = await host.query({ name: 'test.customers', sql: 'SELECT COUNT(*) AS n FROM customer' }, []);
    expect(Number(customers?.n)).to.be.greaterThan(0);
    expect(await lacking(host)).to.equal(null);
  });

  it('brings a host at 007 up by running 008 from the upgrades, then recording the baseline; its rows stay', async () => {
    await hostAt(7);
    await host.runScript("INSERT INTO department (deptno, deptname, admrdept) VALUES ('X01', 'KEPT', 'A00')");
    expect(await lacking(host), 'checkSchema names the upgrade it lacks').to.deep.equal(['008_login_guard_per_device']);

    expect(await migrate(host)).to.deep.equal({ applied: ['008_login_guard_per_device', '001_baseline'], seeded: false });
    expect(await ledger(host)).to.deep.equal([...baseline.replaces, '001_baseline'].sort());
    expect(await schemaOf(host)).to.deep.equal(expected);
    const kept = await host.query({ name: 'test.department', sql: "SELECT deptname FROM department WHERE deptno = 'X01'" }, []);
    expect(kept).to.deep.equal([{ deptname: 'KEPT' }]);
    expect(await lacking(host)).to.equal(null);
    expect(await migrate(host)).to.deep.equal({ applied: [], seeded: false });
  });

  it('only records the baseline on a host at 008, which checkSchema accepts even before that', async () => {
    await hostAt(8);
    expect(await lacking(host), 'the old chain complete is the baseline').to.equal(null);
    expect(await migrate(host)).to.deep.equal({ applied: ['001_baseline'], seeded: false });
    expect(await ledger(host)).to.deep.equal([...baseline.replaces, '001_baseline'].sort());
    expect(await schemaOf(host)).to.deep.equal(expected);
  });
});
