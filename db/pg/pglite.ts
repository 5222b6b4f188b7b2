// The embedded host: PGlite, a real PostgreSQL engine inside this process,
// on disk (`pglite:./data/host`) or in memory (`pglite:memory`).
import { PGlite } from '@electric-sql/pglite';
import { mkdir } from 'node:fs/promises';
import { HostConflictError, HostError, HostUnavailableError, type Row } from '../host.js';
import { DATE_OID, isUnavailableState, PgDialectHost, type PgExecutor } from './dialect.js';

function translate(error: unknown): Error {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === '23505') return new HostConflictError(message, code, { cause: error }, (error as { constraint?: string }).constraint);
  if (isUnavailableState(code)) return new HostUnavailableError(message, code, { cause: error });
  return new HostError(message, code, { cause: error });
}

export async function openPglite(location: string): Promise<PgDialectHost> {
  const dataDir = location === 'memory' ? undefined : location;
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, { parsers: { [DATE_OID]: (value: string) => value } });
  const executor: PgExecutor = {
    async run(_name, text, params) {
      try {
        return (await db.query<Row>(text, params as unknown[])).rows;
      } catch (error) {
        throw translate(error);
      }
    },
    async runScript(sql) {
      try {
        await db.exec(sql);
      } catch (error) {
        throw translate(error);
      }
    },
    close: () => db.close(),
  };
  return new PgDialectHost(`embedded PGlite (${dataDir ?? 'in memory'})`, executor);
}
