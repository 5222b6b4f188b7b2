// What a test imports: the scripted Db2 and the host over it, the CLI's
// diagnostics and constants, and ibm_db's real lib/odbc.js over the addon
// stand-in. test/support/README.md says which part models what.
export { DIAGNOSTICS, Db2Failure, SQL_C, SQL_TYPE, db2Error, diagnostic, type Diagnostic } from './cli.js';
export { DB2_URL, DEFAULT_TEST_OPTIONS, gate, openScriptedHost, openScriptedHostAsStarted, type Db2Fixture } from './host.js';
export { loadIbmDbOver, scriptedIbmDb, type IbmDb } from './loader.js';
export { book, poolBook } from './pool-book.js';
export { ScriptedDb2, type Executed, type Reply, type Responder } from './server.js';
export type { Column, Db2Value } from './values.js';
