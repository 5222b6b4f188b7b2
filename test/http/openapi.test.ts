// /openapi.json: a valid OpenAPI document, generated from the same schemas the routes validate with.
import SwaggerParser from '@apidevtools/swagger-parser';
import { expect } from 'chai';
import { startApp, type TestApp } from '../support/app.js';

const CONTRACT: [string, string][] = [
  ['post', '/api/auth/login'], ['post', '/api/auth/refresh'], ['get', '/api/auth/session'],
  ['delete', '/api/auth/session'], ['delete', '/api/auth/sessions'],
  ['get', '/api/auth/session/scratchpad'], ['put', '/api/auth/session/scratchpad'],
  ['get', '/api/sample/employee'], ['post', '/api/sample/employee'], ['get', '/api/sample/employee/{empno}'],
  ['put', '/api/sample/employee/{empno}'], ['delete', '/api/sample/employee/{empno}'],
  ['get', '/api/accounts'], ['get', '/api/accounts/{accountId}/transactions'], ['post', '/api/transfers'],
  ['get', '/api/audit'], ['get', '/health/live'], ['get', '/health/ready'], ['get', '/api/auth/sessions'], ['delete', '/api/auth/sessions/{ref}'],
];

describe('GET /openapi.json', () => {
  let api: TestApp;
  let document: any;

  before(async () => {
    api = await startApp();
    const response = await api.request('GET', '/openapi.json');
    expect(response.status).to.equal(200);
    document = response.body;
  });
  after(() => api.close());

  it('is a valid OpenAPI 3 document', async () => {
    await SwaggerParser.validate(structuredClone(document));
    expect(document.openapi).to.match(/^3\./);
  });

  it('lists every route of the contract, and nothing else', () => {
    const listed = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`)).sort();
    expect(listed).to.deep.equal(CONTRACT.map(([m, p]) => `${m} ${p}`).sort());
  });

  it('describes the employee routes with their request and response schemas', () => {
    const create = document.paths['/api/sample/employee'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.required).to.have.members(['empno', 'firstName', 'lastName', 'edLevel']);
    expect(body.additionalProperties).to.equal(false);
    expect(body.properties.edLevel).to.deep.include({ type: 'integer', minimum: 1, maximum: 30 });
    expect(body.properties.firstName).to.deep.include({ type: 'string', maxLength: 12 });
    expect(body.properties.sex.enum).to.deep.equal(['M', 'F']);
    expect(create.responses['201'].headers.Location).to.be.an('object');
    expect(create.responses).to.include.keys('400', '401', '403', '409', '413', '415');
    const list = document.paths['/api/sample/employee'].get;
    const limit = list.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit).to.deep.include({ in: 'query', required: false });
    expect(limit.schema).to.deep.include({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
    const update = document.paths['/api/sample/employee/{empno}'].put;
    expect(update.responses).to.include.keys('200', '404', '422');
    expect(update.requestBody.content['application/json'].schema.required).to.equal(undefined);
    expect(document.paths['/api/sample/employee/{empno}'].get.responses['200'].content['application/json'].schema.properties)
      .to.include.keys('empno', 'firstName', 'midInit', 'lastName', 'workDept', 'phoneNo', 'hireDate', 'job', 'edLevel', 'sex', 'birthDate', 'salary', 'bonus', 'comm');
  });

  it('marks login public and everything under /api else as protected by a bearer or a DPoP-bound token', () => {
    expect(document.paths['/api/auth/login'].post.security).to.deep.equal([]);
    expect(document.security).to.deep.equal([{ bearerAuth: [] }, { dpopAuth: [] }]);
    expect(document.paths['/api/transfers'].post.parameters.find((p: { name: string }) => p.name === 'Idempotency-Key'))
      .to.deep.include({ in: 'header', required: true });
  });

  it('fills Try it out of login with the demo login, and every body example passes its route\u2019s own validation', () => {
    expect(document.paths['/api/auth/login'].post.requestBody.content['application/json'].schema.example)
      .to.deep.equal({ account: '100000001', pin: '12345' });
    const withExample = api.app.routes.filter((spec) => spec.body?.describe().meta?.example !== undefined);
    expect(withExample.map((spec) => spec.operationId)).to.include.members(['login', 'putScratchpad']);
    for (const spec of withExample) {
      expect(() => spec.body?.validateSync(spec.body.describe().meta?.example), spec.operationId).not.to.throw();
    }
  });
});

describe('GET /openapi.json with SESSION_BINDING=required (production\u2019s default)', () => {
  let api: TestApp;
  let document: any;

  before(async () => {
    api = await startApp({ SESSION_BINDING: 'required' });
    document = (await api.request('GET', '/openapi.json')).body;
  });
  after(() => api.close());

  it('offers only the DPoP scheme the service accepts, never Bearer', async () => {
    await SwaggerParser.validate(structuredClone(document));
    expect(document.security).to.deep.equal([{ dpopAuth: [] }]);
    expect(Object.keys(document.components.securitySchemes)).to.deep.equal(['dpopAuth']);
  });

  it('says on the docs page that Try it out cannot sign DPoP proofs, and what to use instead', () => {
    expect(document.info.description).to.include('This service requires device-bound sessions')
      .and.to.include('Try it out cannot sign DPoP proofs')
      .and.to.include('client kit (@host-session/client');
  });
});
