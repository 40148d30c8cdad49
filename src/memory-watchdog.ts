/**
 * Samples the process's memory (RSS, heap) and event-loop delay once a second. Above
 * `MEMORY_SOFT_LIMIT_MB` of RSS it says "shed": the request limiter then refuses new
 * GraphQL requests with 503 until RSS falls back under 90 % of the limit (hysteresis,
 * so the state does not flap at the line). Nothing here forces a GC: shedding stops
 * new allocations and V8 collects on its own.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export type MemorySample = { rss: number; heapUsed: number; heapTotal: number; external: number };

export type MemoryWatchdogOptions = {
  /** 0 turns shedding off (the figures are still sampled for /health) */
  softLimitMB: number;
  intervalMs?: number;
  /** the source of samples (tests inject one; default process.memoryUsage) */
  sample?: () => MemorySample;
};

const MB = 1024 * 1024;
const round = (n: number) => Math.round(n * 10) / 10;

export class MemoryWatchdog {
  private last: MemorySample;
  private shed = false;
  private sheddingSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly delay = monitorEventLoopDelay({ resolution: 20 });
  private readonly sampleFn: () => MemorySample;
  private lastDelay = { p50: 0, p99: 0, max: 0 };
  readonly softLimitMB: number;
  /** how many requests were refused because of memory, since start */
  shedCount = 0;

  constructor(options: MemoryWatchdogOptions) {
    this.softLimitMB = options.softLimitMB;
    this.sampleFn = options.sample ?? (() => process.memoryUsage());
    this.last = this.sampleFn();
    this.evaluate();
    this.delay.enable();
    this.timer = setInterval(() => this.tick(), options.intervalMs ?? 1000);
    this.timer.unref(); // never keeps the process alive
  }

  /** Samples now (also called by the timer). */
  tick() {
    this.last = this.sampleFn();
    // Event-loop delay of the last interval (the histogram restarts each time).
    this.lastDelay = {
      p50: round(this.delay.percentile(50) / 1e6),
      p99: round(this.delay.percentile(99) / 1e6),
      max: round(this.delay.max / 1e6),
    };
    this.delay.reset();
    this.evaluate();
  }

  private evaluate() {
    if (this.softLimitMB <= 0) return;
    const rssMB = this.last.rss / MB;
    if (!this.shed && rssMB > this.softLimitMB) {
      this.shed = true;
      this.sheddingSince = Date.now();
    } else if (this.shed && rssMB < this.softLimitMB * 0.9) {
      this.shed = false;
      this.sheddingSince = undefined;
    }
  }

  /** Whether new GraphQL requests must be refused now. */
  get shedding(): boolean {
    return this.shed;
  }

  /** For /health. */
  snapshot() {
    const m = this.last;
    return {
      state: this.shed ? ('shedding' as const) : ('ok' as const),
      softLimitMB: this.softLimitMB,
      ...(this.sheddingSince ? { sheddingSince: new Date(this.sheddingSince).toISOString() } : {}),
      shedRequests: this.shedCount,
      memoryMB: {
        rss: round(m.rss / MB),
        heapUsed: round(m.heapUsed / MB),
        heapTotal: round(m.heapTotal / MB),
        external: round(m.external / MB),
      },
      eventLoopDelayMs: this.lastDelay,
    };
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    this.delay.disable();
  }
}
