// The check every HTTP suite's responses pass through (test/support/contract.ts)
// must itself refuse what the served document does not promise.
import { expect } from 'chai';
import { ContractCheck } from '../support/contract.js';
import { startApp, type TestApp } from '../support/app.js';

describe('the response contract check of the HTTP suites', () => {
  let api: TestApp;
  let check: ContractCheck;
  before(async () => {
    api = await startApp();
    check = new ContractCheck(api.app.document as Record<string, unknown>);
  });
  after(() => api.close());

  const employee = {
    empno: '000010', firstName: 'A', midInit: null, lastName: 'B', workDept: null, phoneNo: null, hireDate: null, job: null,
    edLevel: 1, sex: null, birthDate: null, salary: null, bonus: null, comm: null,
  };

  it('passes a documented status with a body of its schema', () => {
    expect(() => check.check('GET', '/api/sample/employee/000010', 200, 'application/json', employee)).not.to.throw();
  });

  it('refuses a field the schema does not name', () => {
    expect(() => check.check('GET', '/api/sample/employee/000010', 200, 'application/json', { ...employee, pinDigest: 'x' }))
      .to.throw(/additional properties/);
  });

  it('refuses a status the operation does not document, and a problem that is not problem+json', () => {
    expect(() => check.check('GET', '/api/sample/employee/000010', 418, 'application/json', {})).to.throw(/not documented/);
    expect(() => check.check('GET', '/api/sample/employee/000010', 404, 'application/json', {})).to.throw(/problem\+json/);
  });

  it('refuses a wrong type, a missing field and a bad date-time', () => {
    expect(() => check.check('GET', '/api/sample/employee/000010', 200, 'application/json', { ...employee, edLevel: '1' })).to.throw();
    const { lastName: _dropped, ...missing } = employee;
    expect(() => check.check('GET', '/api/sample/employee/000010', 200, 'application/json', missing)).to.throw(/lastName/);
    expect(() => check.check('GET', '/health/live', 200, 'application/json', { status: 'ok', extra: 1 })).to.throw();
  });
});
