/**
 * Backpressure for GraphQL operations:
 * - at most `maxConcurrent` operations run at once, each operation of a batch counting as
 *   one; up to `maxQueued` wait at most `queueTimeoutMs` (a client that disconnects leaves
 *   the queue); beyond that, 503 OVERLOADED;
 * - while the memory watchdog says so, every new request gets 503 OVERLOADED at once,
 *   before its body is read.
 * A slot is taken only once the request's (bounded) body has been read and parsed, so a
 * client that uploads slowly holds a socket but no slot. Only the GraphQL endpoint is
 * gated: /health, /ready and /metrics never wait behind it.
 */
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { ErrorCode } from '../errors.ts';
import { requestsShed } from '../observability/metrics.ts';
import { Gate, GateAbortedError } from './gate.ts';
import type { MemoryWatchdog } from './memory-watchdog.ts';

export type BackpressureOptions = {
  maxConcurrent: number;
  maxQueued: number;
  queueTimeoutMs: number;
};

const MEMORY_RETRY_AFTER_S = 5;

/** A GraphQL-shaped 503 with Retry-After (docs/contract.md, "HTTP": overload), before the body is read. */
function overloaded(reason: 'memory', message: string, retryAfter: number): Response {
  return Response.json(
    { errors: [{ message, extensions: { code: ErrorCode.OVERLOADED, reason, retryAfter } }] },
    { status: 503, headers: { 'retry-after': String(retryAfter), 'cache-control': 'no-store' } },
  );
}

export function useBackpressure(
  options: BackpressureOptions,
  watchdog: MemoryWatchdog,
  graphqlEndpoint: string,
): {
  plugin: Plugin;
  state: () => { active: number; waiting: number; size: number };
  /** For requests served below Yoga's hooks (src/http/direct-post.ts): a free slot or none, no queueing. */
  slots: { tryAcquire(): boolean; release(): void };
} {
  const gate = new Gate(options.maxConcurrent, options.queueTimeoutMs, options.maxQueued, 'a request slot');
  const retryAfter = Math.max(1, Math.ceil(options.queueTimeoutMs / 1000));
  const refused = (error: unknown) =>
    // A client that went away is answered 499 (nobody reads it); the others are told when to come back.
    error instanceof GateAbortedError
      ? createGraphQLError('The client went away while its operation waited', {
          extensions: { code: ErrorCode.OVERLOADED, reason: 'aborted', http: { status: 499 } },
        })
      : createGraphQLError('Too many requests in progress; try again shortly', {
          extensions: {
            code: ErrorCode.OVERLOADED,
            reason: 'concurrency',
            retryAfter,
            http: { status: 503, headers: { 'Retry-After': String(retryAfter) } },
          },
        });
  const plugin: Plugin = {
    onRequest({ request, url, endResponse }) {
      if (url.pathname !== graphqlEndpoint || request.method === 'OPTIONS') return;
      if (watchdog.shedding) {
        watchdog.shedCount++;
        requestsShed.inc({ reason: 'memory' });
        endResponse(overloaded('memory', 'The server is low on memory; try again shortly', MEMORY_RETRY_AFTER_S));
      }
    },
    // Yoga calls onParams once per operation, after the body has been read and parsed. The slot is
    // taken when the operation is about to be parsed, validated and run, and released when its
    // result is there. Each operation of a batch takes its own slot and never waits while
    // holding one, so a batch larger than the free slots cannot deadlock: its extra operations
    // queue (bounded, with the timeout) or are refused one by one, like separate requests.
    // (Taking all of a batch's slots at once would let a batch wait for more slots than exist.)
    onParams({ request, paramsHandler, setParamsHandler }) {
      setParamsHandler(async (payload) => {
        try {
          await gate.acquire(request.signal);
        } catch (error) {
          if (!(error instanceof GateAbortedError)) requestsShed.inc({ reason: 'concurrency' });
          throw refused(error);
        }
        try {
          // No subscriptions or incremental delivery in this schema: the result is complete here.
          return await paramsHandler(payload);
        } finally {
          gate.release();
        }
      });
    },
  };
  return {
    plugin,
    state: () => gate.state,
    slots: { tryAcquire: () => gate.tryAcquire(), release: () => gate.release() },
  };
}
