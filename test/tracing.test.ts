/**
 * OpenTelemetry: off without an endpoint (nothing imported, no plugin); on, each GraphQL
 * execution becomes a span exported over OTLP/HTTP to a collector (here a local HTTP
 * server that keeps what it receives), without variables.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logger.ts';
import { createTracing, tracesEndpoint } from '../src/observability/tracing.ts';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertRestaurants } from './helpers/fixtures.ts';

const log = createLogger('silent');

describe('tracing off', () => {
  it('is off without an OTLP endpoint', async () => {
    expect(tracesEndpoint({})).toBeUndefined();
    expect(await createTracing({}, log)).toBeUndefined();
  });

  it('reads the standard variables', () => {
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe('http://c:4318/v1/traces');
    expect(
      tracesEndpoint({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x',
      }),
    ).toBe('http://t/x');
  });

  it('refuses a sampling ratio that is not one', async () => {
    await expect(
      createTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_TRACES_SAMPLER_ARG: '2' }, log),
    ).rejects.toThrow(/ratio/);
  });
});

describe('tracing on', () => {
  const received: { path: string; body: string }[] = [];
  let collector: Server;
  let t: TestApp;
  let shutdown: () => Promise<void>;

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const address = collector.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const tracing = await createTracing(
      { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: 'tm-test' },
      log,
    );
    if (!tracing) throw new Error('tracing should be on');
    shutdown = tracing.shutdown;
    t = await createTestApp({ app: { tracing: tracing.plugin } });
    await insertRestaurants(t.db, 3);
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((r) => collector?.close(r));
  });

  it('exports one span per execution, named by the operation, without variables', async () => {
    const r = await t.gql('query TracedFeed($n: Int) { restaurants(first: $n) { edges { node { name } } } }', {
      n: 2,
    });
    expect(r.body.errors).toBeUndefined();
    await shutdown(); // flushes the batch
    expect(received.length).toBeGreaterThan(0);
    expect(received[0]!.path).toBe('/v1/traces');
    const all = received.map((x) => x.body).join('\n');
    expect(all).toContain('query.TracedFeed');
    expect(all).toContain('tm-test');
    expect(all).toContain('graphql.execute.operationName');
    expect(all).not.toContain('graphql.execute.variables');
  });
});
