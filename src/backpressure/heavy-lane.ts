/**
 * The heavy lane: operations whose cost reaches the heavy threshold (whole pages of similar
 * lists, searches…) run at most `maxHeavy` at once, `maxHeavy` × 2 more waiting, each for
 * at most `queueTimeoutMs`; beyond, 503 OVERLOADED with Retry-After. Without it a flood of
 * heavy operations fills every request slot and starves the cheap ones. The query limits
 * (src/http/limits.ts) price an operation and send the heavy ones through here.
 */
import { createGraphQLError } from 'graphql-yoga';
import { ErrorCode } from '../errors.ts';
import { requestsShed } from '../observability/metrics.ts';
import { Gate } from './gate.ts';

const HEAVY_RETRY_AFTER_S = 2;

/**
 * @returns `enter(cost, signal)`: resolves when the operation holds a slot, with the
 * `onExecuteDone` hook that gives it back.
 * @throws OVERLOADED (a GraphQL error, HTTP 503) when the lane and its queue are full, the wait
 * times out, or the request is aborted while waiting.
 */
export function createHeavyLane(opts: { maxHeavy: number; queueTimeoutMs: number }) {
  const lane = new Gate(opts.maxHeavy, opts.queueTimeoutMs, opts.maxHeavy * 2, 'a heavy-operation slot');
  return (cost: number, signal: AbortSignal | undefined): Promise<{ onExecuteDone: () => void }> =>
    lane.acquire(signal).then(
      () => ({ onExecuteDone: () => lane.release() }),
      () => {
        requestsShed.inc({ reason: 'heavy' });
        throw createGraphQLError('Too many expensive operations in progress; try again shortly', {
          extensions: {
            code: ErrorCode.OVERLOADED,
            reason: 'heavy',
            cost,
            retryAfter: HEAVY_RETRY_AFTER_S,
            http: { status: 503, headers: { 'Retry-After': String(HEAVY_RETRY_AFTER_S) } },
          },
        });
      },
    );
}
