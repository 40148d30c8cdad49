/**
 * Samples the process's memory and event-loop delay once a second and says "shed" (the
 * request limiter then refuses new GraphQL requests with 503) when either
 * - the memory in use passes `MEMORY_SOFT_LIMIT_MB`: RSS minus the free part of V8's heap
 *   (pages V8 has committed and reuses before growing: they are no pressure, and RSS
 *   keeps them for a while after a collection), or
 * - the V8 heap passes 90 % of its limit (`--max-old-space-size`: past it the process
 *   dies whatever RSS says);
 * until both are back under 90 % of their limits (hysteresis, so the state does not flap).
 * When shedding starts, the listeners drop what they can (the document caches) and a full
 * GC runs, again every 5 s while shedding: with no request running nothing else would
 * collect, and garbage would hold the process in the refusing state (measured: RSS and
 * heap stayed flat for 30 s after the caches were dropped, until a GC freed them).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type MemorySample = { rss: number; heapUsed: number; heapTotal: number; external: number };

export type MemoryWatchdogOptions = {
  /** 0 turns shedding off (the figures are still sampled for /health) */
  softLimitMB: number;
  intervalMs?: number;
  /** the source of samples (tests inject one; default process.memoryUsage) */
  sample?: () => MemorySample;
  /** a full garbage collection (tests inject one; default V8's) */
  collect?: () => void;
  /** V8's heap limit (tests inject one; default V8's, set by --max-old-space-size) */
  heapLimitBytes?: number;
};

/** Above this share of V8's heap limit, shed. */
const HEAP_SHED_FRACTION = 0.9;
/** Shedding ends once every measure is under this share of its trigger. */
const RESUME_FRACTION = 0.9;

/** While shedding, a full GC at most this often (nothing else would run one: no request allocates). */
const COLLECT_INTERVAL_MS = 5_000;

let v8Collect: (() => void) | undefined;
/** V8's `gc()`, without `--expose-gc` on the command line: the flag only adds `gc` to new contexts. */
function fullGc() {
  if (!v8Collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) v8Collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      v8Collect = runInNewContext('gc') as () => void;
    }
  }
  v8Collect();
}

const MB = 1024 * 1024;
const round = (n: number) => Math.round(n * 10) / 10;

export class MemoryWatchdog {
  private last: MemorySample;
  private shed = false;
  private sheddingSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly delay = monitorEventLoopDelay({ resolution: 20 });
  private readonly sampleFn: () => MemorySample;
  private readonly collect: () => void;
  private readonly heapLimit: number;
  private lastCollect = 0;
  private lastDelay = { p50: 0, p99: 0, max: 0 };
  private readonly sheddingListeners: (() => void)[] = [];
  readonly softLimitMB: number;
  /** how many requests were refused because of memory, since start */
  shedCount = 0;

  constructor(options: MemoryWatchdogOptions) {
    this.softLimitMB = options.softLimitMB;
    this.sampleFn = options.sample ?? (() => process.memoryUsage());
    this.collect = options.collect ?? fullGc;
    this.heapLimit = options.heapLimitBytes ?? getHeapStatistics().heap_size_limit;
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

  /** The worst measure over its trigger: above 1, shed. */
  private pressure(): number {
    const m = this.last;
    const inUse = m.rss - Math.max(0, m.heapTotal - m.heapUsed);
    return Math.max(inUse / MB / this.softLimitMB, m.heapUsed / (this.heapLimit * HEAP_SHED_FRACTION));
  }

  private evaluate() {
    if (this.softLimitMB <= 0) return;
    if (!this.shed && this.pressure() > 1) {
      this.shed = true;
      this.sheddingSince = Date.now();
      for (const listener of this.sheddingListeners) listener();
    }
    if (this.shed && Date.now() - this.lastCollect >= COLLECT_INTERVAL_MS) {
      this.lastCollect = Date.now();
      this.collect();
      this.last = this.sampleFn();
    }
    if (this.shed && this.pressure() < RESUME_FRACTION) {
      this.shed = false;
      this.sheddingSince = undefined;
    }
  }

  /** Called each time shedding starts: whoever holds memory it can drop (caches) drops it. */
  onShedding(listener: () => void) {
    this.sheddingListeners.push(listener);
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
        inUse: round((m.rss - Math.max(0, m.heapTotal - m.heapUsed)) / MB),
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
