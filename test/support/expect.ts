// Assertions shared by the HTTP suites: the problem+json shape of API.md.
import { expect } from 'chai';
import type { Response } from './app.js';

export function expectProblem(response: Response, status: number, code: string): void {
  expect(response.status, response.text).to.equal(status);
  expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(response.body).to.include({ status, code });
  expect(response.body.type).to.be.a('string');
  expect(response.body.title).to.be.a('string');
  expect(response.body.requestId).to.equal(response.headers.get('x-request-id'));
  expect(response.text).not.to.match(/at .+\.(ts|js):\d+|SELECT|INSERT|UPDATE |CALL |pglite|node_modules/i);
}
