// A stand-in for the ibm_db binding (no Db2 engine is reachable here): it
// records every statement with its parameters and answers what a Db2 would,
// as each test scripts it. It never pretends to run SQL.
import type { Db2Binding, Db2Connection, Db2Error, Db2Param, Db2Pool } from '../../db/db2/binding.js';

export interface Executed {
  connection: number;
  sql: string;
  params: unknown[];
}

export type Responder = (sql: string, params: unknown[], connection: number) => unknown | Promise<unknown>;

export function db2Error(state: string, sqlcode: number, message = `[IBM][CLI Driver] SQL${Math.abs(sqlcode)}N simulated`): Db2Error {
  return Object.assign(new Error(message), { state, sqlcode });
}

export class FakeIbmDb {
  readonly executed: Executed[] = [];
  readonly events: string[] = [];
  opened = 0;
  returned = 0;
  discarded = 0;
  openNow = 0;
  maxOpenAtOnce = 0;
  /** When set, pool.open never answers (a host that does not accept connections). */
  hangOnOpen = false;
  respond: Responder = () => [];
  maxPoolSize = 0;

  readonly binding: Db2Binding;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the binding's classes close over this fake
    const fake = this;
    class Pool implements Db2Pool {
      constructor(options: { maxPoolSize: number }) {
        fake.maxPoolSize = options.maxPoolSize;
      }
      open(_connectionString: string, callback: (error: Db2Error | null, connection: Db2Connection) => void): void {
        if (fake.hangOnOpen) return;
        const id = ++fake.opened;
        fake.openNow += 1;
        fake.maxOpenAtOnce = Math.max(fake.maxOpenAtOnce, fake.openNow);
        const settle = (counter: 'returned' | 'discarded') => (cb: (error: Db2Error | null) => void) => {
          fake[counter] += 1;
          fake.openNow -= 1;
          setImmediate(() => cb(null));
        };
        const connection: Db2Connection = {
          query(sql, params, cb) {
            fake.executed.push({ connection: id, sql, params });
            Promise.resolve().then(() => fake.respond(sql, params, id)).then((result) => cb(null, result), (error) => cb(error as Db2Error, undefined));
          },
          beginTransaction(cb) { fake.events.push(`begin ${id}`); setImmediate(() => cb(null)); },
          commitTransaction(cb) { fake.events.push(`commit ${id}`); setImmediate(() => cb(null)); },
          rollbackTransaction(cb) { fake.events.push(`rollback ${id}`); setImmediate(() => cb(null)); },
          close: settle('returned'),
          realClose: settle('discarded'),
        };
        setImmediate(() => callback(null, connection));
      }
      close(callback: (error: Db2Error | null) => void): void {
        setImmediate(() => callback(null));
      }
    }
    this.binding = { Pool };
  }

  calls(prefix: string): Executed[] {
    return this.executed.filter((e) => e.sql.startsWith(prefix));
  }
}

export const param = (p: unknown) => p as Db2Param;
