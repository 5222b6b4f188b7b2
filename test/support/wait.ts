// Waiting on events, not on clocks: a condition is re-checked after every
// turn of the event loop until it holds (the suite's timeout is the bound).
import { setImmediate as nextTurn } from 'node:timers/promises';

export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await nextTurn();
}

/**
 * For state outside this process (a server coming up): asks again after a
 * short pause until the answer is yes. The pause spaces the questions; it is
 * never a deadline.
 */
export async function eventually(probe: () => Promise<boolean>, pauseMs = 100): Promise<void> {
  while (!await probe().catch(() => false)) await new Promise((resolve) => setTimeout(resolve, pauseMs));
}
