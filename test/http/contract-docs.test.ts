// docs/API.md is the contract clients read; /openapi.json is the one the code
// serves. They must say the same: the same routes, the same problem codes per
// status, and every configuration variable the service reads.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { startApp, type TestApp } from '../support/app.js';

const contract = readFileSync('docs/API.md', 'utf8');
/** Routes served beside the document, listed in its "Service routes" table. */
const OUTSIDE_THE_DOCUMENT = ['GET /openapi.json', 'GET /docs', 'GET /app', 'GET /metrics'];

describe('docs/API.md and the served document', () => {
  let api: TestApp;
  let document: { paths: Record<string, Record<string, unknown>>; components: { responses: Record<string, { description: string }> } };
  before(async () => {
    api = await startApp();
    document = (await api.request('GET', '/openapi.json')).body;
  });
  after(() => api.close());

  it('list the same routes', () => {
    const inTables = new Set([
      ...[...contract.matchAll(/^\| (GET|POST|PUT|DELETE) \| (\/[^ |]+) \|/gm)].map(([, method, path]) => `${method} ${path}`),
      ...[...contract.matchAll(/^\| (GET|POST|PUT|DELETE) (\/[^ |]+) \|/gm)].map(([, method, path]) => `${method} ${path}`),
    ]);
    const served = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect([...inTables].sort()).to.deep.equal([...served, ...OUTSIDE_THE_DOCUMENT].sort());
  });

  it('name the same problem codes for every status', () => {
    const table = new Map([...contract.matchAll(/^\| (\d{3}) \| (`[a-z_]+`(?:, `[a-z_]+`)*) \|$/gm)]
      .map(([, status = '', codes = '']) => [status, codes.replace(/`/g, '').split(', ').sort()]));
    for (const [name, { description }] of Object.entries(document.components.responses)) {
      const status = name.replace('Problem', '');
      const codes = [...(/\(([^)]*)\)/.exec(description)?.[1] ?? '').matchAll(/[a-z_]+/g)].map(([code]) => code).sort();
      expect(table.get(status), `status ${status}`).to.deep.equal(codes);
    }
    expect([...table.keys()].sort()).to.deep.equal(Object.keys(document.components.responses).map((n) => n.replace('Problem', '')).sort());
  });

  it('document every configuration variable the service reads, and no other', () => {
    const source = readFileSync('app/config.ts', 'utf8');
    const read = new Set([...source.matchAll(/read\.\w+\('([A-Z_]+)'/g)].map(([, name]) => name));
    const documented = new Set([...contract.matchAll(/^\| ([A-Z_]+(?:, [A-Z_]+)*) \| [^|]+ \| [^|]+ \|$/gm)]
      .flatMap(([, names = '']) => names.split(', ')));
    expect([...documented].sort()).to.deep.equal([...read].sort());
  });
});
