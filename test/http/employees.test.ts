// /api/sample/employee against the shared host (PGlite, or PostgreSQL in CI).
import { expect } from 'chai';
import { hostRows, resetHost } from '../support/host.js';
import { ALICE, STAFF, startApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/expect.js';

const NEW_EMPLOYEE = {
  empno: '990001', firstName: 'ADA', midInit: 'K', lastName: 'LOVELACE', workDept: 'C01',
  phoneNo: '1815', hireDate: '2020-02-01', job: 'ANALYST', edLevel: 18, sex: 'F',
  birthDate: '1990-12-10', salary: '81000.50', bonus: '500.00', comm: null,
};

describe('employees', () => {
  let api: TestApp;
  let customer: string;
  let staff: string;

  before(async () => {
    api = await startApp();
  });
  after(() => api.close());
  beforeEach(async () => {
    await resetHost();
    customer = await api.login(ALICE.account, ALICE.pin);
    staff = await api.login(STAFF.account, STAFF.pin);
  });

  describe('GET /api/sample/employee', () => {
    it('lists the first page ordered by empno with the total', async () => {
      const response = await api.request('GET', '/api/sample/employee', { token: customer });
      expect(response.status).to.equal(200);
      expect(response.body).to.include({ limit: 20, offset: 0 });
      expect(response.body.total).to.be.at.least(30);
      expect(response.body.items).to.have.length(20);
      const empnos = response.body.items.map((e: { empno: string }) => e.empno);
      expect(empnos).to.deep.equal([...empnos].sort());
      expect(response.body.items[0]).to.deep.equal({
        empno: '000010', firstName: 'CHRISTINE', midInit: 'I', lastName: 'HAAS', workDept: 'A00',
        phoneNo: '3978', hireDate: '1995-01-01', job: 'PRES', edLevel: 18, sex: 'F',
        birthDate: '1963-08-24', salary: '152750.00', bonus: '1000.00', comm: '4220.00',
      });
    });

    it('pages with limit and offset', async () => {
      const first = await api.request('GET', '/api/sample/employee?limit=5&offset=0', { token: customer });
      const second = await api.request('GET', '/api/sample/employee?limit=5&offset=5', { token: customer });
      expect(first.body.items).to.have.length(5);
      expect(second.body.items[0].empno > first.body.items[4].empno).to.equal(true);
      const beyond = await api.request('GET', '/api/sample/employee?offset=1000', { token: customer });
      expect(beyond.status).to.equal(200);
      expect(beyond.body.items).to.deep.equal([]);
      expect(beyond.body.total).to.equal(first.body.total);
    });

    it('filters by workDept and a case-insensitive lastName prefix', async () => {
      const dept = await api.request('GET', '/api/sample/employee?workDept=D11&limit=100', { token: customer });
      expect(dept.body.items.length).to.be.greaterThan(3);
      expect(dept.body.items.every((e: { workDept: string }) => e.workDept === 'D11')).to.equal(true);
      expect(dept.body.total).to.equal(dept.body.items.length);
      const name = await api.request('GET', '/api/sample/employee?lastName=sm', { token: customer });
      expect(name.body.items.map((e: { lastName: string }) => e.lastName)).to.deep.equal(['SMITH', 'SMITH']);
      const both = await api.request('GET', '/api/sample/employee?lastName=sm&workDept=E11', { token: customer });
      expect(both.body.items.map((e: { empno: string }) => e.empno)).to.deep.equal(['000300']);
    });

    it('treats % and _ in the lastName prefix literally', async () => {
      const response = await api.request('GET', '/api/sample/employee?lastName=%25', { token: customer });
      expect(response.status).to.equal(200);
      expect(response.body.total).to.equal(0);
    });

    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'limit=1.5', 'workDept=ABCD', 'colour=red', 'limit=1&limit=2']) {
      it(`rejects ?${query} with 400`, async () => {
        const response = await api.request('GET', `/api/sample/employee?${query}`, { token: customer });
        expectProblem(response, 400, 'validation_failed');
        expect(response.body.errors).to.be.an('array').with.length.greaterThan(0);
      });
    }

    it('needs a token', async () => {
      expectProblem(await api.request('GET', '/api/sample/employee'), 401, 'invalid_token');
    });
  });

  describe('GET /api/sample/employee/{empno}', () => {
    it('returns one employee', async () => {
      const response = await api.request('GET', '/api/sample/employee/000120', { token: customer });
      expect(response.status).to.equal(200);
      expect(response.body).to.include({ empno: '000120', lastName: "O'CONNELL", midInit: null });
    });

    it('is 404 for a missing employee', async () => {
      expectProblem(await api.request('GET', '/api/sample/employee/999999', { token: customer }), 404, 'not_found');
    });

    it('is 400 for a malformed empno', async () => {
      expectProblem(await api.request('GET', '/api/sample/employee/12%27%3B--', { token: customer }), 400, 'validation_failed');
    });
  });

  describe('POST /api/sample/employee', () => {
    it('creates an employee with a Location header, readable afterwards', async () => {
      const response = await api.request('POST', '/api/sample/employee', { token: staff, body: NEW_EMPLOYEE });
      expect(response.status).to.equal(201);
      expect(response.headers.get('location')).to.equal('/api/sample/employee/990001');
      expect(response.body).to.deep.equal(NEW_EMPLOYEE);
      const read = await api.request('GET', '/api/sample/employee/990001', { token: customer });
      expect(read.body).to.deep.equal(NEW_EMPLOYEE);
    });

    it('creates with only the required fields, the rest null', async () => {
      const response = await api.request('POST', '/api/sample/employee', {
        token: staff, body: { empno: '990002', firstName: 'MIN', lastName: 'IMAL', edLevel: 1 },
      });
      expect(response.status).to.equal(201);
      expect(response.body).to.include({ empno: '990002', workDept: null, salary: null, sex: null });
    });

    it('is one host call: the procedure answers the stored row (no read back)', async () => {
      const before = api.host.stats();
      expect((await api.request('POST', '/api/sample/employee', { token: staff, body: NEW_EMPLOYEE })).status).to.equal(201);
      const after = api.host.stats();
      expect(after.total - before.total, 'one session lookup and the procedure').to.equal(2);
      expect((after.calls.employee_create ?? 0) - (before.calls.employee_create ?? 0)).to.equal(1);
      expect((after.calls['employee.get'] ?? 0) - (before.calls['employee.get'] ?? 0)).to.equal(0);
    });

    it('is 422 unknown_department when workDept names no department, and creates nothing', async () => {
      const response = await api.request('POST', '/api/sample/employee', { token: staff, body: { ...NEW_EMPLOYEE, workDept: 'Z99' } });
      expectProblem(response, 422, 'unknown_department');
      expectProblem(await api.request('GET', `/api/sample/employee/${NEW_EMPLOYEE.empno}`, { token: staff }), 404, 'not_found');
    });

    it('is 409 conflict when the empno exists', async () => {
      const response = await api.request('POST', '/api/sample/employee', { token: staff, body: { ...NEW_EMPLOYEE, empno: '000010' } });
      expectProblem(response, 409, 'conflict');
      const original = await api.request('GET', '/api/sample/employee/000010', { token: staff });
      expect(original.body.lastName).to.equal('HAAS');
    });

    const invalid: [string, Record<string, unknown>][] = [
      ['a missing lastName', { ...NEW_EMPLOYEE, lastName: undefined }],
      ['an edLevel of 31', { ...NEW_EMPLOYEE, edLevel: 31 }],
      ['an edLevel given as a string', { ...NEW_EMPLOYEE, edLevel: '18' }],
      ['a firstName over 12 characters', { ...NEW_EMPLOYEE, firstName: 'MAXIMILIANUSX' }],
      ['a birthDate in year 0 (no host can store it)', { ...NEW_EMPLOYEE, birthDate: '0000-01-01' }],
      ['a hireDate in year 0', { ...NEW_EMPLOYEE, hireDate: '0000-12-31' }],
      ['a 3-digit phoneNo', { ...NEW_EMPLOYEE, phoneNo: '123' }],
      ['sex X', { ...NEW_EMPLOYEE, sex: 'X' }],
      ['an impossible hireDate', { ...NEW_EMPLOYEE, hireDate: '2021-02-30' }],
      ['a float salary', { ...NEW_EMPLOYEE, salary: 81000.5 }],
      ['a salary with 3 decimals', { ...NEW_EMPLOYEE, salary: '1.005' }],
      ['a salary too large for DECIMAL(9,2)', { ...NEW_EMPLOYEE, salary: '12345678.00' }],
      ['an unknown field', { ...NEW_EMPLOYEE, nickname: 'Ada' }],
      ['a NUL byte', { ...NEW_EMPLOYEE, firstName: 'A\u0000B' }],
      ['a lastName of 15 characters but 18 bytes of UTF-8 (a Db2 VARCHAR(15) holds bytes)', { ...NEW_EMPLOYEE, lastName: 'Müller-Lüdenbök' }],
    ];
    for (const [what, body] of invalid) {
      it(`is 400 for ${what}, and nothing is stored`, async () => {
        const response = await api.request('POST', '/api/sample/employee', { token: staff, body });
        expectProblem(response, 400, 'validation_failed');
        expect((await api.request('GET', '/api/sample/employee/990001', { token: staff })).status).to.equal(404);
      });
    }

    it('stores a name with accents that fits its column in bytes, and reads it back whole', async () => {
      const response = await api.request('POST', '/api/sample/employee', { token: staff, body: { ...NEW_EMPLOYEE, firstName: 'Jörg', lastName: 'Groß-Müller' } });
      expect(response.status, response.text).to.equal(201);
      expect((await api.request('GET', '/api/sample/employee/990001', { token: staff })).body).to.include({ firstName: 'Jörg', lastName: 'Groß-Müller' });
    });

    it('says why a name of few characters is too long: its bytes', async () => {
      const response = await api.request('POST', '/api/sample/employee', { token: staff, body: { ...NEW_EMPLOYEE, lastName: 'Müller-Lüdenbök' } });
      expect(response.body.errors).to.deep.equal([{ path: 'lastName', message: 'must be at most 15 bytes of UTF-8 (é, ü or ß take two each)' }]);
    });

    it('names each invalid field in errors', async () => {
      const response = await api.request('POST', '/api/sample/employee', { token: staff, body: { empno: 'x', nickname: 1 } });
      const paths = response.body.errors.map((e: { path: string }) => e.path);
      expect(paths).to.include.members(['empno', 'firstName', 'lastName', 'edLevel', 'nickname']);
    });

    it('is 403 forbidden for a customer session', async () => {
      expectProblem(await api.request('POST', '/api/sample/employee', { token: customer, body: NEW_EMPLOYEE }), 403, 'forbidden');
      expect((await api.request('GET', '/api/sample/employee/990001', { token: staff })).status).to.equal(404);
    });
  });

  describe('PUT /api/sample/employee/{empno}', () => {
    it('changes only the fields sent', async () => {
      const response = await api.request('PUT', '/api/sample/employee/000010', { token: staff, body: { job: 'CEO', salary: '160000.00', comm: null } });
      expect(response.status).to.equal(200);
      expect(response.body).to.include({ empno: '000010', job: 'CEO', salary: '160000.00', comm: null, firstName: 'CHRISTINE', edLevel: 18, bonus: '1000.00' });
    });

    it('moves an employee to another department, in one host call; an unknown one is 422 and changes nothing', async () => {
      const before = api.host.stats().total;
      const moved = await api.request('PUT', '/api/sample/employee/000010', { token: staff, body: { workDept: 'E21' } });
      expect(moved.status).to.equal(200);
      expect(moved.body).to.include({ empno: '000010', workDept: 'E21', lastName: 'HAAS' });
      expect(api.host.stats().total - before, 'one session lookup and the procedure').to.equal(2);
      expectProblem(await api.request('PUT', '/api/sample/employee/000010', { token: staff, body: { workDept: 'Z99', job: 'X' } }), 422, 'unknown_department');
      expect((await api.request('GET', '/api/sample/employee/000010', { token: staff })).body).to.include({ workDept: 'E21', job: 'PRES' });
    });

    it('allows edLevel to rise and keep its value', async () => {
      expect((await api.request('PUT', '/api/sample/employee/000010', { token: staff, body: { edLevel: 18 } })).status).to.equal(200);
      const response = await api.request('PUT', '/api/sample/employee/000010', { token: staff, body: { edLevel: 20 } });
      expect(response.body.edLevel).to.equal(20);
    });

    it('is 422 edlevel_decrease when edLevel would go down, and changes nothing', async () => {
      const response = await api.request('PUT', '/api/sample/employee/000010', { token: staff, body: { edLevel: 17, job: 'CLERK' } });
      expectProblem(response, 422, 'edlevel_decrease');
      const read = await api.request('GET', '/api/sample/employee/000010', { token: staff });
      expect(read.body).to.include({ edLevel: 18, job: 'PRES' });
    });

    it('is 404 for a missing employee', async () => {
      expectProblem(await api.request('PUT', '/api/sample/employee/999999', { token: staff, body: { job: 'X' } }), 404, 'not_found');
    });

    it('is 400 for an unknown field or a changed empno', async () => {
      expectProblem(await api.request('PUT', '/api/sample/employee/000010', { token: staff, body: { empno: '000011' } }), 400, 'validation_failed');
      expectProblem(await api.request('PUT', '/api/sample/employee/000010', { token: staff, body: { lastName: '' } }), 400, 'validation_failed');
    });

    it('is 403 for a customer session', async () => {
      expectProblem(await api.request('PUT', '/api/sample/employee/000010', { token: customer, body: { job: 'X' } }), 403, 'forbidden');
    });
  });

  describe('DELETE /api/sample/employee/{empno}', () => {
    it('is 409 employee_referenced when other rows refer to the employee (as SAMPLE\u2019s PROJECT does), and deletes nothing', async () => {
      await hostRows('CREATE TABLE test_project (projno CHAR(6) NOT NULL PRIMARY KEY, respemp CHAR(6) NOT NULL REFERENCES employee (empno))');
      try {
        await hostRows("INSERT INTO test_project (projno, respemp) VALUES ('AD3100', '000010')");
        expectProblem(await api.request('DELETE', '/api/sample/employee/000010', { token: staff }), 409, 'employee_referenced');
        expect((await api.request('GET', '/api/sample/employee/000010', { token: staff })).status).to.equal(200);
      } finally {
        await hostRows('DROP TABLE test_project');
      }
    });

    it('deletes, then the employee is 404', async () => {
      const response = await api.request('DELETE', '/api/sample/employee/000010', { token: staff });
      expect(response.status).to.equal(204);
      expect(response.text).to.equal('');
      expect((await api.request('GET', '/api/sample/employee/000010', { token: staff })).status).to.equal(404);
      expectProblem(await api.request('DELETE', '/api/sample/employee/000010', { token: staff }), 404, 'not_found');
    });

    it('is 403 for a customer session, and the employee stays', async () => {
      expectProblem(await api.request('DELETE', '/api/sample/employee/000010', { token: customer }), 403, 'forbidden');
      expect((await api.request('GET', '/api/sample/employee/000010', { token: staff })).status).to.equal(200);
    });
  });
});
