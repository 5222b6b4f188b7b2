// A bound in front of ibm_db's Pool: at most `size` connections, an acquire
// that gives up after acquireTimeoutMs (the Pool queues callers forever), and
// every connection handed back through the Pool, a dead one disconnected
// first, so the Pool's own count (poolSize) comes down with it.
import { HostUnavailableError } from '../host.js';
import type { Db2Database, Db2Pool } from './binding.js';
import { translate } from './errors.js';

export interface PoolCounts {
  inUse: number;
  /** Connections really open: in use and idle (ibm_db leaves disconnected ones in its idle list until the next open). */
  open: number;
  waiting: number;
  max: number;
}

export class BoundedPool {
  /** Slots taken: connections in use, and opens still under way. */
  private taken = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly pool: Db2Pool,
    private readonly connectionString: string,
    private readonly size: number,
    private readonly acquireTimeoutMs: number,
  ) {}

  /**
   * A connection within acquireTimeoutMs, or HostUnavailableError. The bound
   * is ours, so ibm_db's Pool never reaches its own maxPoolSize queue: it has
   * an idle connection or room to open one whenever a slot is free here.
   */
  async acquire(): Promise<Db2Database> {
    if (this.closed) throw new HostUnavailableError('the Db2 pool is closed');
    const started = Date.now();
    // A waiter is handed the freed slot directly, so a newcomer cannot take it in between.
    if (this.taken >= this.size) await this.waitForSlot();
    else this.taken += 1;
    const remaining = Math.max(1, this.acquireTimeoutMs - (Date.now() - started));
    let timedOut = false;
    const opening = new Promise<Db2Database>((resolve, reject) => {
      this.pool.open(this.connectionString, (error, db) => (error || !db ? reject(error ?? new Error('ibm_db opened no connection')) : resolve(db)));
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new HostUnavailableError(`no Db2 connection within ${this.acquireTimeoutMs} ms`));
      }, remaining);
      timer.unref();
    });
    try {
      return await Promise.race([opening, deadline]);
    } catch (error) {
      if (timedOut) {
        // The slot stays taken until the late open settles; a late connection goes straight back.
        opening.then((late) => this.release(late), () => this.freeSlot());
      } else {
        this.freeSlot();
      }
      throw translate(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Gives a healthy connection back to the Pool's idle list. */
  release(db: Db2Database): Promise<void> {
    return new Promise((resolve) => {
      db.close(() => {
        this.freeSlot();
        resolve();
      });
    });
  }

  /**
   * Disconnects a dead connection, then hands it back: the Pool's poolClose
   * sees no native connection, so it drops the entry and lowers its count.
   * (Disconnecting alone, as realClose does, leaves it counted in use.)
   */
  discard(db: Db2Database): Promise<void> {
    const { realClose } = db;
    if (!realClose) return this.release(db);
    return new Promise((resolve) => {
      realClose.call(db, () => {
        db.close(() => {
          this.freeSlot();
          resolve();
        });
      });
    });
  }

  counts(): PoolCounts {
    const inUse = this.pool.usedPool[this.connectionString]?.length ?? 0;
    const idle = (this.pool.availablePool[this.connectionString] ?? []).filter((db) => db.connected).length;
    return { inUse, open: inUse + idle, waiting: this.waiting.length, max: this.size };
  }

  close(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => {
      this.pool.close(() => resolve());
    });
  }

  private waitForSlot(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(wake);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new HostUnavailableError(`Db2 pool exhausted: no connection free within ${this.acquireTimeoutMs} ms`));
      }, this.acquireTimeoutMs);
      timer.unref();
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiting.push(wake);
    });
  }

  private freeSlot(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes to the longest waiter
    else this.taken -= 1;
  }
}
