// Login attempts per client address, per instance, in fixed one-minute
// windows: a cheap first line before the host's per-account lockout.

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly perMinute: number, private readonly maxTracked = 100_000) {}

  /** Counts an attempt; returns 0 when allowed, else the seconds until the next window. */
  attempt(address: string, now: Date): number {
    const minute = Math.floor(now.getTime() / 60_000) * 60_000;
    let window = this.windows.get(address);
    if (!window || window.start !== minute) {
      if (this.windows.size >= this.maxTracked) this.forgetBefore(minute);
      window = { start: minute, count: 0 };
      this.windows.set(address, window);
    }
    window.count += 1;
    return window.count <= this.perMinute ? 0 : Math.ceil((minute + 60_000 - now.getTime()) / 1000);
  }

  private forgetBefore(minute: number): void {
    for (const [address, window] of this.windows) if (window.start < minute) this.windows.delete(address);
  }
}
