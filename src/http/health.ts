import type { Plugin } from 'graphql-yoga';

export type ReadinessCheck = () => Promise<{ ok: boolean; checks: Record<string, string> }>;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * `GET /health`: liveness with memory figures (never touches the database).
 * `GET /ready`: 200 when every readiness check passes, 503 otherwise, with the reasons.
 */
/** The load figures /health shows: memory, event-loop delay, shedding state, requests in flight and queued. */
export type LoadSnapshot = () => Record<string, unknown> & { state: 'ok' | 'shedding' };

export function useHealthEndpoints(ready: ReadinessCheck, load: LoadSnapshot): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === '/health') {
        const m = process.memoryUsage();
        // 200 while shedding too: the process is alive; restarting it would lose in-flight work.
        endResponse(
          Response.json(
            {
              status: 'ok',
              uptimeSeconds: Math.round(process.uptime()),
              memoryMB: {
                rss: mb(m.rss),
                heapUsed: mb(m.heapUsed),
                heapTotal: mb(m.heapTotal),
                external: mb(m.external),
              },
              load: load(),
            },
            { headers: { 'cache-control': 'no-store' } },
          ),
        );
      } else if (url.pathname === '/ready') {
        const result = await ready().catch((e: Error) => ({ ok: false, checks: { error: e.message } }));
        endResponse(
          Response.json(
            { status: result.ok ? 'ready' : 'unavailable', checks: result.checks },
            { status: result.ok ? 200 : 503, headers: { 'cache-control': 'no-store' } },
          ),
        );
      }
    },
  };
}
