/**
 * CORS with Chromium's real preflight: a page served from another local port fetch()es the
 * gateway (a real process, CORS_ORIGINS set) with an Authorization header and a JSON body, so
 * the browser sends its own OPTIONS preflight. A recording relay in front of the gateway keeps
 * what went over the wire. An allowed origin gets 204 with its origin, the methods and the
 * headers, and the request goes through; a disallowed origin gets no CORS header and the
 * browser refuses the answer. Cacheable answers say `Vary: Origin`, with or without an Origin.
 */
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTestToken, TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertRestaurants, insertUser } from '../helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';
import { requireProgram } from '../helpers/programs.ts';

const CHROMIUM = '/usr/bin/chromium';

type Exchange = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  status: number;
  answer: IncomingHttpHeaders;
};

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

/** A relay to the gateway that records each request's method and headers and the answer's status and headers. */
function recordingRelay(target: string, exchanges: Exchange[]): Server {
  const to = new URL(target);
  return createServer((req, res) => {
    const upstream = request(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        exchanges.push({
          method: req.method!,
          path: req.url!,
          headers: req.headers,
          status: answer.statusCode!,
          answer: answer.headers,
        });
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
}

/** A page that fetch()es the gateway as a web app does, and reports what it got. */
const PAGE = `<!doctype html><html><body><script>
window.callGateway = async (url, token) => {
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
    return { ok: true, status: r.status, body: await r.json() };
  } catch (e) {
    return { ok: false, error: String(e) };
  }
};
</script></body></html>`;

describe.runIf(requireProgram('chromium'))('CORS with Chromium', () => {
  let db: TestDatabase;
  let gateway: GatewayProcess;
  let relay: Server;
  let relayBase: string;
  const pages: Server[] = [];
  let allowedOrigin: string;
  let otherOrigin: string;
  let token: string;
  const exchanges: Exchange[] = [];

  beforeAll(async () => {
    db = await freshDatabase();
    await insertRestaurants(db, 3);
    const userId = await insertUser(db, 'cors@example.com');
    token = await signTestToken(userId);
    for (let i = 0; i < 2; i++) {
      const page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
      pages.push(page);
    }
    const [allowedPort, otherPort] = await Promise.all(pages.map(listen));
    allowedOrigin = `http://127.0.0.1:${allowedPort}`;
    otherOrigin = `http://127.0.0.1:${otherPort}`;
    gateway = await startGateway(
      {
        DATABASE_URL: db.url,
        JWT_SECRET: TEST_JWT_SECRET,
        NODE_ENV: 'production',
        CORS_ORIGINS: `https://app.example, ${allowedOrigin}`,
      },
      { nodeArgs: ['--max-old-space-size=448'] },
    );
    relay = recordingRelay(gateway.base, exchanges);
    relayBase = `http://127.0.0.1:${await listen(relay)}`;
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    relay?.close();
    for (const p of pages) p.close();
    await db?.drop();
  }, 30_000);

  async function fromPage(origin: string) {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--disable-background-networking', '--no-sandbox', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(origin);
      exchanges.length = 0;
      const result = await page.evaluate(
        ([url, tok]) =>
          (window as never as { callGateway: (u: string, t: string) => Promise<unknown> }).callGateway(url!, tok!),
        [`${relayBase}/graphql`, token],
      );
      return result as { ok: boolean; status?: number; body?: { data?: { me?: { email: string } } }; error?: string };
    } finally {
      await browser.close();
    }
  }

  it('allowed origin: the preflight gets 204 with the origin, methods and headers, and the request goes through', async () => {
    const result = await fromPage(allowedOrigin);
    expect(result).toMatchObject({ ok: true, status: 200, body: { data: { me: { email: 'cors@example.com' } } } });
    const preflight = exchanges.find((e) => e.method === 'OPTIONS');
    expect(preflight, JSON.stringify(exchanges)).toBeDefined();
    // Chromium's own preflight: it asks for the non-safelisted headers the page sends.
    expect(preflight!.headers.origin).toBe(allowedOrigin);
    expect(preflight!.headers['access-control-request-method']).toBe('POST');
    expect(preflight!.headers['access-control-request-headers']).toBe('authorization,content-type');
    expect(preflight!.status).toBe(204);
    expect(preflight!.answer['access-control-allow-origin']).toBe(allowedOrigin);
    expect(String(preflight!.answer['access-control-allow-methods']).split(/,\s*/)).toEqual(
      expect.arrayContaining(['GET', 'POST']),
    );
    expect(String(preflight!.answer['access-control-allow-headers']).toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['authorization', 'content-type']),
    );
    const actual = exchanges.find((e) => e.method === 'POST');
    expect(actual?.status).toBe(200);
    expect(actual?.answer['access-control-allow-origin']).toBe(allowedOrigin);
  }, 60_000);

  it('disallowed origin: no CORS header at all, and the browser refuses', async () => {
    const result = await fromPage(otherOrigin);
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/Failed to fetch/);
    const preflight = exchanges.find((e) => e.method === 'OPTIONS');
    expect(preflight, JSON.stringify(exchanges)).toBeDefined();
    expect(preflight!.headers.origin).toBe(otherOrigin);
    expect(Object.keys(preflight!.answer).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    // The preflight failed: the POST itself was never sent.
    expect(exchanges.some((e) => e.method === 'POST')).toBe(false);
  }, 60_000);

  it('cacheable answers say Vary: Origin (and Authorization), with or without an Origin in the request', async () => {
    const url = `${gateway.base}/graphql?query=${encodeURIComponent('{ restaurants(first: 2) { totalCount } }')}`;
    const answers = [];
    for (const headers of [{}, { origin: allowedOrigin }, { origin: otherOrigin }] as Record<string, string>[]) {
      const r = await fetch(url, { headers: { accept: 'application/json', ...headers } });
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('public, max-age=300');
      const vary = (r.headers.get('vary') ?? '').toLowerCase().split(/,\s*/);
      expect(vary).toEqual(expect.arrayContaining(['origin', 'authorization']));
      answers.push({ origin: headers.origin, allow: r.headers.get('access-control-allow-origin') });
    }
    expect(answers).toEqual([
      { origin: undefined, allow: null },
      { origin: allowedOrigin, allow: allowedOrigin },
      { origin: otherOrigin, allow: null },
    ]);
  });
});
