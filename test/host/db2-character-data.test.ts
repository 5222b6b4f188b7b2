// Character data between the API and Db2, through the driver's own loader and
// ibm_db's real lib/odbc.js, the stand-in converting as the CLI does
// (test/support/ibm-db/code-page.ts): in a container with no locale but C,
// only DB2CODEPAGE=1208 keeps a name with ß or a reference with é intact.
import { expect } from 'chai';
import { loadIbmDb, type Db2Binding } from '../../db/db2/binding.js';
import { HostError, type Host, type HostValue, type Row } from '../../db/host.js';
import { procedures, type ProcedureName } from '../../db/procedures.js';
import { statements } from '../../db/statements.js';
import { openScriptedHost, openScriptedHostAsStarted, type Executed, type Reply, type ScriptedDb2 } from '../support/ibm-db/index.js';

const LOCALE = ['DB2CODEPAGE', 'LC_ALL', 'LC_CTYPE', 'LANG'] as const;
const NAME = { firstnme: 'Zoë', lastname: 'Groß-Müller' };
/** 'ä', 'é', 'Ü' are in ISO 8859-1; the en dash is not. */
const REFERENCE = 'Miete März – Café Ünal';

const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a failure'), (error: unknown) => error);
const isProcedure = (name: string): name is ProcedureName => name in procedures;

/** The inputs Db2 received for a procedure's IN parameters, by name. */
function received(db2: ScriptedDb2, procedure: ProcedureName): Record<string, unknown> {
  const call = db2.statements(`CALL BANK.${procedure.toUpperCase()}(`).at(-1);
  return Object.fromEntries(procedures[procedure].in.map((name, i) => [name, call?.inputs[i]]));
}

/** A CALL answers with the values it received; a read answers with what another application stored, written correctly. */
function echo(statement: Executed): Reply | undefined {
  const name = /^CALL BANK\.(\w+)\(/.exec(statement.sql)?.[1]?.toLowerCase() ?? '';
  if (isProcedure(name)) {
    const signature = procedures[name];
    const value = (field: string) => statement.inputs[signature.in.indexOf(field as never)];
    return { out: signature.out.map((field) => (field === 'status' ? 0 : (value(field) as string | number | undefined) ?? null)) };
  }
  if (statement.sql === statements.employeeGet.sql) {
    return { columns: [{ name: 'FIRSTNME', type: 'VARCHAR(12)' }, { name: 'LASTNAME', type: 'VARCHAR(15)' }], rows: [[NAME.firstnme, NAME.lastname]] };
  }
  if (statement.sql === statements.ledgerPage.sql) return { columns: [{ name: 'REFERENCE', type: 'VARCHAR(140)' }], rows: [[REFERENCE]] };
  return undefined;
}

const argsFor = (procedure: ProcedureName, given: Record<string, HostValue>) =>
  ({ ...Object.fromEntries(procedures[procedure].in.map((name) => [name, null])), ...given });

/** An employee created and a transfer booked with non-ASCII text, and both read back as another application stored them. */
async function roundTrip(host: Host): Promise<{ employee: Row; transfer: Row; stored: Row[]; booked: Row[] }> {
  const employee = await host.call('employee_create', argsFor('employee_create', { empno: '000777', ...NAME }));
  const transfer = await host.call('transfer', argsFor('transfer', { reference: REFERENCE, amount: '12.50' }));
  const stored = await host.query(statements.employeeGet, ['000777']);
  const booked = await host.query(statements.ledgerPage, [1000, 'A1', 'C1', 10]);
  return { employee, transfer, stored, booked };
}

describe('Db2 driver: character data (DB2CODEPAGE)', () => {
  let saved: Partial<Record<(typeof LOCALE)[number], string>>;
  beforeEach(() => {
    saved = Object.fromEntries(LOCALE.map((key) => [key, process.env[key]]));
    for (const key of LOCALE) delete process.env[key];
    process.env.LANG = 'C'; // a slim container: no locale but C
  });
  afterEach(() => {
    for (const key of LOCALE) {
      const value = saved[key];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('sets DB2CODEPAGE=1208 before ibm_db loads, and leaves an operator\'s own setting alone', async () => {
    const seen: (string | undefined)[] = [];
    const importer = async (): Promise<Db2Binding> => {
      seen.push(process.env.DB2CODEPAGE);
      return { Pool: class {} as unknown as Db2Binding['Pool'] };
    };
    await loadIbmDb(importer);
    process.env.DB2CODEPAGE = '819';
    await loadIbmDb(importer);
    expect(seen).to.deep.equal(['1208', '819']);
  });

  it('round-trips a non-ASCII employee name and transfer reference under a C locale, Db2 receiving them as written', async () => {
    const { host, db2 } = await openScriptedHostAsStarted();
    db2.respond = echo;
    const { employee, transfer, stored, booked } = await roundTrip(host);
    expect(received(db2, 'employee_create')).to.include(NAME);
    expect(received(db2, 'transfer')).to.include({ reference: REFERENCE });
    expect(employee).to.include(NAME);
    expect(transfer).to.include({ reference: REFERENCE });
    expect(stored).to.deep.equal([NAME]);
    expect(booked).to.deep.equal([{ reference: REFERENCE }]);
  });

  it('still counts a VARCHAR in bytes: 15 characters with umlauts do not fit VARCHAR(15) in a Unicode database (22001; the API refuses them first: employees.test.ts)', async () => {
    const { host, db2 } = await openScriptedHostAsStarted();
    db2.respond = echo;
    const error = await failure(host.call('employee_create', argsFor('employee_create', { empno: '000778', firstnme: 'Jörg', lastname: 'Müller-Lüdenbök' })));
    expect(error).to.be.instanceOf(HostError).and.include({ sqlState: '22001' });
  });

  describe('without it, the CLI converts as it does under a C locale (ISO 8859-1)', () => {
    it('stores a reference garbled (its UTF-8 bytes read as ISO 8859-1), though the API reads its own writing back unharmed', async () => {
      const { host, db2 } = openScriptedHost();
      db2.respond = echo;
      const transfer = await host.call('transfer', argsFor('transfer', { reference: REFERENCE, amount: '12.50' }));
      expect(received(db2, 'transfer').reference).to.equal('Miete MÃ¤rz â\u0080\u0093 CafÃ© Ã\u009Cnal');
      expect(transfer.reference).to.equal(REFERENCE);
    });

    it('overflows a name that fits (13 bytes of UTF-8 in a VARCHAR(15) turn into 17): SQL0302N, 22001', async () => {
      const { host, db2 } = openScriptedHost();
      db2.respond = echo;
      const error = await failure(host.call('employee_create', argsFor('employee_create', { empno: '000777', ...NAME })));
      expect(error).to.be.instanceOf(HostError).and.include({ sqlState: '22001' });
      expect(db2.statements('CALL BANK.EMPLOYEE_CREATE')).to.deep.equal([]);
    });

    it('reads what other applications stored with U+FFFD (and a substitution character for what ISO 8859-1 lacks)', async () => {
      const { host, db2 } = openScriptedHost();
      db2.respond = echo;
      expect(await host.query(statements.employeeGet, ['000777'])).to.deep.equal([{ firstnme: 'Zo\uFFFD', lastname: 'Gro\uFFFD-M\uFFFDller' }]);
      expect(await host.query(statements.ledgerPage, [1000, 'A1', 'C1', 10])).to.deep.equal([{ reference: 'Miete M\uFFFDrz \u001A Caf\uFFFD \uFFFDnal' }]);
    });
  });
});
