/**
 * A counting semaphore with a bounded wait queue and an acquire timeout: the database
 * pool's gate (src/db/pool.ts) and the GraphQL request limiter (src/backpressure/request-limiter.ts).
 *
 * Why hand-written: pg-pool queues waiting clients without a bound (its
 * `connectionTimeoutMillis` bounds only the wait), and the usual semaphore packages
 * (p-limit, async-sema, p-queue) have neither a queue bound nor a per-waiter timeout
 * nor abort of a waiter. Gating every pool call at `DB_POOL_MAX` means pg-pool itself
 * never queues, so these two bounds are the only ones that matter.
 */
export class GateTimeoutError extends Error {
  constructor(
    readonly waitedMs: number,
    what: string,
  ) {
    super(`Timed out after ${waitedMs} ms waiting for ${what}`);
    this.name = 'GateTimeoutError';
  }
}

export class GateFullError extends Error {
  constructor(
    readonly waiting: number,
    what: string,
  ) {
    super(`Too many requests waiting for ${what} (${waiting})`);
    this.name = 'GateFullError';
  }
}

/** The waiter left the queue because its caller gave up (client disconnected). */
export class GateAbortedError extends Error {
  constructor() {
    super('Gave up waiting');
    this.name = 'GateAbortedError';
  }
}

type Waiter = { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout; cancel?: () => void };

export class Gate {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly size: number,
    readonly timeoutMs: number,
    readonly maxWaiting: number,
    /** named in the errors' messages */
    readonly what = 'a database connection',
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

  /** Takes a free slot if there is one, without waiting; pair a `true` with exactly one `release()`. */
  tryAcquire(): boolean {
    if (this.active >= this.size) return false;
    this.active++;
    return true;
  }

  /**
   * Takes a slot, waiting at most `timeoutMs` behind at most `maxWaiting` others; pair
   * with exactly one `release()`. An aborted `signal` takes the waiter out of the queue.
   * @throws GateTimeoutError | GateFullError | GateAbortedError
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxWaiting) {
      return Promise.reject(new GateFullError(this.waiters.length, this.what));
    }
    if (signal?.aborted) return Promise.reject(new GateAbortedError());
    return new Promise((resolve, reject) => {
      const leave = (error: Error) => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        clearTimeout(waiter.timer);
        waiter.cancel?.();
        reject(error);
      };
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => leave(new GateTimeoutError(this.timeoutMs, this.what)), this.timeoutMs),
      };
      if (signal) {
        const onAbort = () => leave(new GateAbortedError());
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cancel = () => signal.removeEventListener('abort', onAbort);
      }
      this.waiters.push(waiter);
    });
  }

  release() {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.cancel?.();
      next.resolve(); // the slot passes straight to the next waiter
    } else {
      this.active--;
    }
  }
}
