// The service's modules import in one direction: no circle, type imports
// included (a circle of types is still a circle to the reader). The floors
// themselves (app -> routes -> auth -> db) are eslint's (eslint.config.js).
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const FLOORS = ['app', 'auth', 'contract', 'db', 'routes'];

function sourcesIn(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourcesIn(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each module's relative imports and re-exports, static ones, resolved to the .ts file. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of FLOORS.flatMap((floor) => sourcesIn(join(ROOT, floor)))) {
    const text = readFileSync(file, 'utf8');
    const imported = [...text.matchAll(/^(?:import|export)\s[^;]*?\bfrom\s+'(\.[^']+)'/gm)]
      .map((match) => resolve(dirname(file), String(match[1]).replace(/\.js$/, '.ts')));
    graph.set(file, imported);
  }
  return graph;
}

/** Every circle found by a depth-first walk, as `a -> b -> a`. */
function circles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (module: string) => {
    state.set(module, 'open');
    path.push(module);
    for (const next of graph.get(module) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next].map((m) => relative(ROOT, m)).join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(module, 'done');
  };
  for (const module of graph.keys()) if (!state.has(module)) visit(module);
  return found;
}

describe('the service\u2019s imports', () => {
  it('form no circle, type imports included', () => {
    const graph = importGraph();
    expect(graph.size, 'modules found').to.be.greaterThan(50);
    expect(circles(graph)).to.deep.equal([]);
  });

  it('would name a circle if one were added', () => {
    const graph = new Map([['/r/db/a.ts', ['/r/db/b.ts']], ['/r/db/b.ts', ['/r/db/a.ts']]]);
    expect(circles(graph)).to.have.length(1);
  });
});
