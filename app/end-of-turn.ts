// Work put off to the end of the event-loop turn that asked for it. Under load
// one turn ends several requests, and what each would do on its own (an
// access line, a metrics observation, a write to standard output) is done for
// all of them together, the same code run back to back while the CPU's caches
// hold it. Whatever is pending when the process exits (process.exit, an
// uncaught exception) runs then.

const queued: (() => void)[] = [];
let scheduled = false;
let exitHooked = false;

/**
 * Runs `task` when this turn ends (after its I/O callbacks, before the next
 * poll for I/O), after the tasks queued before it; a task queued by a running
 * task runs in the same pass. A caller queues one task per turn for its whole
 * batch, not one per item.
 */
export function atTurnEnd(task: () => void): void {
  queued.push(task);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runQueued);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', runQueued);
  }
}

function runQueued(): void {
  scheduled = false;
  // A task that throws leaves the rest queued: the next turn that queues anything runs them.
  for (let task = queued.shift(); task; task = queued.shift()) task();
}

/**
 * A turn's items, handed to `handle` together when the turn ends (or at
 * `flush()`, for a reader that must not see them pending), in the order added.
 */
export class TurnBatch<T> {
  private items: T[] = [];
  private readonly flushing = () => this.flush();

  constructor(private readonly handle: (items: T[]) => void) {}

  add(item: T): void {
    if (this.items.push(item) === 1) atTurnEnd(this.flushing);
  }

  flush(): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.handle(items);
  }
}
