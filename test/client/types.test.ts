// The client's generated types against the document the service serves now:
// any change to a route's schemas that is not regenerated into
// client/src/api-types.ts fails here (fix: npm run client:types).
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import type { OpenAPI3 } from 'openapi-typescript';
import { TYPES_FILE, typesFor } from '../../client/scripts/openapi-types.js';
import { startApp, type TestApp } from '../support/app.js';

/** The first line where two texts part, for a message that says what drifted. */
function firstDifference(committed: string, served: string): string {
  const a = committed.split('\n');
  const b = served.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: committed ${JSON.stringify(a[at] ?? '(end of file)')}, served ${JSON.stringify(b[at] ?? '(end of file)')}`;
}

describe('client/src/api-types.ts', () => {
  let api: TestApp;

  before(async () => {
    api = await startApp();
  });
  after(() => api.close());

  it('is what openapi-typescript makes of the served /openapi.json', async () => {
    const document = await (await fetch(`${api.url}/openapi.json`)).json() as OpenAPI3;
    const served = await typesFor(document);
    const committed = await readFile(TYPES_FILE, 'utf8');
    if (committed !== served) {
      expect.fail(`client/src/api-types.ts has drifted from the served document at ${firstDifference(committed, served)}: `
        + 'start the service (npm start) and run npm run client:types');
    }
  });

  it('notices a drift (a changed schema gives other types)', async () => {
    const document = await (await fetch(`${api.url}/openapi.json`)).json() as OpenAPI3;
    const path = document.paths?.['/api/transfers'];
    const transfer = path && 'post' in path ? path.post : undefined;
    if (!transfer || '$ref' in transfer) throw new Error('the document has no POST /api/transfers');
    transfer.summary = `${transfer.summary ?? ''} (changed)`;
    expect(await typesFor(document)).not.to.equal(await readFile(TYPES_FILE, 'utf8'));
  });
});
