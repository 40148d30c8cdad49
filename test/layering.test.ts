/**
 * Layering: a lower layer knows nothing of the layers above it. Reads every import (static,
 * `import type`, re-exports, dynamic `import()`) of every file under src/ and fails on an edge
 * that a rule forbids. Layers, bottom up: src/errors.ts and src/random.ts; observability
 * (logger, metrics, tracing, request scope) and the backpressure primitives; auth, cache, db, ml, recommend;
 * the write services (orders, preferences); loaders; context; schema and http; app, services,
 * gateway, server (the composition: only src/server.ts builds the gateway, only src/gateway.ts the app
 * and the services).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

type Edge = { from: string; to: string };

/** Repository-relative edges between files of the repository; package imports are left out. */
function importGraph(): Edge[] {
  return sourceFiles(join(root, 'src')).flatMap((file) => {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    return importedFiles
      .filter((i) => i.fileName.startsWith('.'))
      .map((i) => ({ from: relative(root, file), to: relative(root, resolve(dirname(file), i.fileName)) }));
  });
}

const below = ['src/auth/', 'src/cache/', 'src/db/', 'src/ml/', 'src/recommend/'];
/** Writes behind the mutations: they own their SQL calls and the cache invalidation. */
const writeServices = ['src/orders/', 'src/preferences/'];
const composition = ['src/app.ts', 'src/services.ts', 'src/gateway.ts', 'src/server.ts'];

/**
 * A file matching `from` may not import a file matching any of `to` unless it matches `except`;
 * a prefix ending in / is a folder.
 */
const rules: { name: string; from: string[]; to: string[]; except?: string[] }[] = [
  {
    name: 'src/errors.ts, src/random.ts and the gate are leaves',
    from: ['src/errors.ts', 'src/random.ts', 'src/backpressure/gate.ts'],
    to: ['src/'],
  },
  {
    name: 'observability knows only itself',
    from: ['src/observability/'],
    to: ['src/'],
    except: ['src/observability/'],
  },
  {
    name: 'backpressure knows only errors, observability and itself',
    from: ['src/backpressure/'],
    to: ['src/'],
    except: ['src/backpressure/', 'src/observability/', 'src/errors.ts'],
  },
  {
    name: 'the data layers use only the gate of backpressure',
    from: below,
    to: ['src/backpressure/'],
    except: ['src/backpressure/gate.ts'],
  },
  {
    name: 'auth, cache, db, ml, recommend, loaders and the context know nothing of the schema or HTTP',
    from: [...below, 'src/loaders/', 'src/context.ts', 'src/client-address.ts'],
    to: ['src/schema/', 'src/http/'],
  },
  { name: 'the data layers know nothing of the loaders', from: below, to: ['src/loaders/'] },
  { name: 'the data layers know nothing of the request context', from: below, to: ['src/context.ts'] },
  {
    name: 'the write services know nothing of the schema, HTTP, loaders or the request context',
    from: writeServices,
    to: ['src/schema/', 'src/http/', 'src/loaders/', 'src/context.ts'],
  },
  { name: 'the data layers know nothing of the write services', from: below, to: writeServices },
  {
    name: 'only the composition wires things together',
    from: ['src/'],
    to: composition,
  },
  { name: 'src/ never imports tests, scripts or benchmarks', from: ['src/'], to: ['test/', 'scripts/', 'bench/'] },
];

const matches = (path: string, patterns: string[]) =>
  patterns.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));

function violations(edges: Edge[]): string[] {
  return rules.flatMap((rule) =>
    edges
      .filter(
        (e) =>
          matches(e.from, rule.from) &&
          matches(e.to, rule.to) &&
          !matches(e.to, rule.except ?? []) &&
          !matches(e.from, composition),
      )
      .map((e) => `${rule.name}: ${e.from} → ${e.to}`),
  );
}

describe('layering of src/', () => {
  const edges = importGraph();

  it('reads the import graph (static, type-only and dynamic imports)', () => {
    const has = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
    expect(has('src/context.ts', 'src/errors.ts')).toBe(true);
    expect(has('src/auth/accounts.ts', 'src/db/pool.ts')).toBe(true); // `import type`
    expect(has('src/http/graphiql.ts', 'src/db/demo-account.ts')).toBe(true);
    expect(has('src/orders/service.ts', 'src/recommend/engine.ts')).toBe(true);
    expect(edges.length).toBeGreaterThan(150);
  });

  it('flags a forbidden edge', () => {
    expect(violations([{ from: 'src/db/pool.ts', to: 'src/loaders/orders.ts' }])).toHaveLength(1);
    expect(violations([{ from: 'src/auth/accounts.ts', to: 'src/schema/builder.ts' }])).toHaveLength(1);
    expect(violations([{ from: 'src/errors.ts', to: 'src/observability/logger.ts' }])).toHaveLength(1);
    expect(violations([{ from: 'src/orders/service.ts', to: 'src/schema/validation.ts' }])).toHaveLength(1);
    expect(violations([{ from: 'src/observability/metrics.ts', to: 'src/db/pool.ts' }])).toHaveLength(1);
    expect(violations([{ from: 'src/db/pool.ts', to: 'src/backpressure/request-limiter.ts' }])).toHaveLength(1);
    expect(violations([{ from: 'src/db/pool.ts', to: 'src/backpressure/gate.ts' }])).toEqual([]);
    expect(violations([{ from: 'src/preferences/service.ts', to: 'src/http/errors.ts' }])).toHaveLength(1);
    expect(violations([{ from: 'src/schema/builder.ts', to: 'src/db/pool.ts' }])).toEqual([]);
  });

  it('has no forbidden edge', () => {
    expect(violations(edges)).toEqual([]);
  });

  it('builds the gateway in one place: src/server.ts imports src/gateway.ts, which alone imports the app and services', () => {
    const into = (to: string) => edges.filter((e) => e.to === to).map((e) => e.from);
    expect(into('src/gateway.ts')).toEqual(['src/server.ts']);
    expect(into('src/app.ts')).toEqual(['src/gateway.ts']);
    expect(into('src/services.ts')).toEqual(['src/gateway.ts']);
  });
});
