// What an instance remembers per token, device header or session: a bounded
// map that, past its capacity, forgets an entry not used since it was last
// looked at (a second-chance, or CLOCK, approximation of least recently used).
//
// Why not a Map kept in use order, as the three caches were: moving a found
// entry to the end (delete, then set) on every request left a hole in the
// map's table, so each map rebuilt its table every few dozen requests; and
// the key stored was the request's own string, often a slice of a whole
// header, which kept that header alive with it (a DPoP header segment held its
// whole proof, so 10,000 kept headers were bounded by the proofs' size, not
// by 1 KB each). Here a hit only marks its entry; the map changes when a new
// key comes or the capacity is passed, and a key is stored as a copy of its
// own. (Issue 25 looked here for the cluster workers' old-generation
// promotion; the change left it where it was.)

interface Entry<V> {
  value: V;
  /** Used since the last sweep passed it: spared once, then moved to the end. */
  used: boolean;
}

export class RecentlyUsed<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(private readonly capacity: number) {}

  /** How many entries are held now. */
  get size(): number {
    return this.entries.size;
  }

  /** The value under `key`, now marked as used; undefined when there is none. */
  use(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value;
  }

  /** `value` under `key`; past the capacity, an entry unused since the last sweep is forgotten. */
  set(key: string, value: V): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      entry.used = true;
      return;
    }
    // Room is made first: a sweep must not find the newcomer, unused as it is, and forget it at once.
    if (this.entries.size >= this.capacity) this.forgetOne();
    this.entries.set(ownCopy(key), { value, used: false });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /**
   * From the oldest entry on: a used one loses its mark and goes to the end,
   * the first unused one is forgotten. Every entry passed loses its mark, so
   * one sweep ends within one round of the map, and costs what it passes.
   */
  private forgetOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (!entry.used) return;
      entry.used = false;
      this.entries.set(key, entry);
    }
  }
}

/**
 * The same text in a string of its own: V8 may represent a substring as a
 * view of the whole string it was cut from (a DPoP proof's header segment,
 * of the whole proof), which would stay alive as long as the view. JSON
 * round-trips every string exactly, lone surrogates included.
 */
const ownCopy = (text: string): string => JSON.parse(JSON.stringify(text)) as string;
