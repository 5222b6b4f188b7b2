// Loads ibm_db's own JavaScript layer (node_modules/ibm_db/lib/odbc.js),
// unmodified and fresh each time, with only its native addon replaced: its
// `require("bindings")("odbc_bindings")` is answered by the stand-in.
import { createRequire, Module } from 'node:module';
import { isDb2Binding, type Db2Binding } from '../../../db/db2/binding.js';
import { createIbmDbAddon, type IbmDbAddon } from './addon.js';
import { ScriptedDb2 } from './server.js';

const require = createRequire(import.meta.url);

/** ibm_db's module object: its Pool and Database, as lib/odbc.js exports them. */
export interface IbmDb extends Db2Binding {
  Database: new (options?: object) => object;
}

function isIbmDb(value: unknown): value is IbmDb {
  return isDb2Binding(value) && 'Database' in value && typeof value.Database === 'function';
}

export function loadIbmDbOver(addon: IbmDbAddon): IbmDb {
  const odbcPath = require.resolve('ibm_db/lib/odbc.js');
  const requireFromIbmDb = createRequire(odbcPath);
  const bindingsPath = requireFromIbmDb.resolve('bindings');
  const cached = { odbc: require.cache[odbcPath], bindings: require.cache[bindingsPath] };
  // lib/odbc.js prepends its clidriver folders to these at load: keep the test process's own.
  const environment = { PATH: process.env.PATH, LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH };
  const bindings = new Module(bindingsPath);
  bindings.filename = bindingsPath;
  bindings.loaded = true;
  bindings.exports = (name: string) => {
    if (name !== 'odbc_bindings') throw new Error(`ibm_db asked bindings for ${name}`);
    return addon;
  };
  delete require.cache[odbcPath];
  require.cache[bindingsPath] = bindings;
  try {
    const loaded: unknown = requireFromIbmDb(odbcPath);
    if (!isIbmDb(loaded)) throw new Error('ibm_db/lib/odbc.js exports no Pool and Database');
    return loaded;
  } finally {
    delete require.cache[odbcPath];
    if (cached.odbc) require.cache[odbcPath] = cached.odbc;
    if (cached.bindings) require.cache[bindingsPath] = cached.bindings;
    else delete require.cache[bindingsPath];
    for (const [key, value] of Object.entries(environment)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** A scripted Db2, and ibm_db's real JavaScript layer talking to it through the addon stand-in. */
export function scriptedIbmDb(): { db2: ScriptedDb2; ibmdb: IbmDb } {
  const db2 = new ScriptedDb2();
  return { db2, ibmdb: loadIbmDbOver(createIbmDbAddon(db2)) };
}
