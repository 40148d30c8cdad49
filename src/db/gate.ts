/**
 * A counting semaphore with a bounded wait queue and an acquire timeout.
 *
 * Why hand-written: slonik 47's pool queues waiting clients without a bound and
 * without a timeout (createConnectionPool.js), and the usual semaphore packages
 * (p-limit, async-sema) have neither a queue bound nor a wait timeout. Gating
 * every pool call at `DB_POOL_MAX` means slonik itself never queues, so these two
 * bounds are the only ones that matter. No round trip is involved.
 */
export class GateTimeoutError extends Error {
  constructor(readonly waitedMs: number) {
    super(`Timed out after ${waitedMs} ms waiting for a database connection`);
    this.name = 'GateTimeoutError';
  }
}

export class GateFullError extends Error {
  constructor(readonly waiting: number) {
    super(`Too many requests waiting for a database connection (${waiting})`);
    this.name = 'GateFullError';
  }
}

type Waiter = { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class Gate {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly size: number,
    readonly timeoutMs: number,
    readonly maxWaiting: number,
  ) {}

  get state() {
    return { active: this.active, waiting: this.waiters.length, size: this.size };
  }

  /** Runs `fn` holding one slot. @throws GateTimeoutError | GateFullError */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxWaiting) return Promise.reject(new GateFullError(this.waiters.length));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new GateTimeoutError(this.timeoutMs));
        }, this.timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private release() {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve(); // the slot passes straight to the next waiter
    } else {
      this.active--;
    }
  }
}
