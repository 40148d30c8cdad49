/**
 * Backpressure for GraphQL requests, before their bodies are even read:
 * - at most `maxConcurrent` run at once; up to `maxQueued` wait at most `queueTimeoutMs`
 *   (a client that disconnects leaves the queue); beyond that, 503 OVERLOADED;
 * - while the memory watchdog says so, every new request gets 503 OVERLOADED at once.
 * Only the GraphQL endpoint is gated: /health, /ready and /metrics never wait behind it.
 */
import type { Plugin } from 'graphql-yoga';
import { Gate, GateAbortedError } from '../gate.ts';
import type { MemoryWatchdog } from '../memory-watchdog.ts';
import { requestsShed } from '../metrics.ts';
import { ErrorCode } from '../schema/errors.ts';

export type BackpressureOptions = {
  maxConcurrent: number;
  maxQueued: number;
  queueTimeoutMs: number;
};

/** A GraphQL-shaped 503 with Retry-After (the contract's overload response). */
function overloaded(reason: 'concurrency' | 'memory', message: string, retryAfter: number): Response {
  return Response.json(
    { errors: [{ message, extensions: { code: ErrorCode.OVERLOADED, reason, retryAfter } }] },
    { status: 503, headers: { 'retry-after': String(retryAfter), 'cache-control': 'no-store' } },
  );
}

export function useBackpressure(
  options: BackpressureOptions,
  watchdog: MemoryWatchdog,
  graphqlEndpoint: string,
): { plugin: Plugin; state: () => { active: number; waiting: number; size: number } } {
  const gate = new Gate(options.maxConcurrent, options.queueTimeoutMs, options.maxQueued, 'a request slot');
  const retryAfter = Math.max(1, Math.ceil(options.queueTimeoutMs / 1000));
  const plugin: Plugin = {
    async onRequest({ request, url, endResponse, requestHandler, setRequestHandler }) {
      if (url.pathname !== graphqlEndpoint || request.method === 'OPTIONS') return;
      if (watchdog.shedding) {
        watchdog.shedCount++;
        requestsShed.inc({ reason: 'memory' });
        endResponse(overloaded('memory', 'The server is low on memory; try again shortly', 5));
        return;
      }
      try {
        await gate.acquire(request.signal);
      } catch (error) {
        // A client that went away gets nothing; the others are told when to come back.
        if (!(error instanceof GateAbortedError)) requestsShed.inc({ reason: 'concurrency' });
        endResponse(
          error instanceof GateAbortedError
            ? new Response(null, { status: 499 })
            : overloaded('concurrency', 'Too many requests in progress; try again shortly', retryAfter),
        );
        return;
      }
      // The slot is held until the response is built, whatever happens inside.
      setRequestHandler(async (req, ctx) => {
        try {
          return await requestHandler(req, ctx);
        } finally {
          gate.release();
        }
      });
    },
  };
  return { plugin, state: () => gate.state };
}
