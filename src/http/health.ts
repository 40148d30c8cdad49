import type { Plugin } from 'graphql-yoga';

export type ReadinessCheck = () => Promise<{ ok: boolean; checks: Record<string, string> }>;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** The load figures /health shows: memory, event-loop delay, shedding state, requests in flight and queued. */
export type LoadSnapshot = () => Record<string, unknown> & { state: 'ok' | 'shedding' };

/** The detailed /health body: uptime, memory and the load snapshot. */
export function healthDetails(load: LoadSnapshot) {
  const m = process.memoryUsage();
  return {
    status: 'ok',
    uptimeSeconds: Math.round(process.uptime()),
    memoryMB: { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external) },
    load: load(),
  };
}

/**
 * `GET /health`: liveness (never touches the database), 200 while the process runs. With
 * `load`, the detailed body (`healthDetails`); without (production's public port), exactly
 * `{"status":"ok"}`: memory and load figures are for the metrics port only.
 * `GET /ready`: 200 when every readiness check passes, 503 otherwise, with the reasons.
 */
export function useHealthEndpoints(ready: ReadinessCheck, load?: LoadSnapshot): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === '/health') {
        // 200 while shedding too: the process is alive; restarting it would lose in-flight work.
        endResponse(
          Response.json(load ? healthDetails(load) : { status: 'ok' }, { headers: { 'cache-control': 'no-store' } }),
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
