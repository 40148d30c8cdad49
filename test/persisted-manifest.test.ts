/**
 * clients/persisted-operations.json: fresh, every id the sha256 of its body, every body valid and
 * within the server's limits, one body per name, the anonymous feed callable with no variables,
 * append-only, bad files refused by name. Pure: no database, no server.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  isInputType,
  Kind,
  type OperationDefinitionNode,
  parse,
  typeFromAST,
  type ValidationRule,
  validate,
  valueFromAST,
  visit,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  buildManifest,
  MANIFEST_FILE,
  type Manifest,
  type ManifestOperation,
  readSources,
  type SourceFile,
  serialize,
} from '../scripts/persisted-build.ts';
import { DEFAULT_QUERY_LIMITS } from '../src/app.ts';
import { operationCost } from '../src/http/cost.ts';
import { schema } from '../src/schema/index.ts';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const onDisk = readFileSync(MANIFEST_FILE, 'utf8');
const manifest = JSON.parse(onDisk) as Manifest;
const sources = readSources();
const byName = (name: string) => {
  const op = manifest.operations.find((o) => o.name === name);
  if (!op) throw new Error(`${name} is not in the manifest`);
  return op;
};

function operationOf(document: DocumentNode): OperationDefinitionNode {
  const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (op?.kind !== Kind.OPERATION_DEFINITION) throw new Error('no operation');
  return op;
}

describe('the manifest file', () => {
  it('is what persisted:build makes from clients/ (not stale)', () => {
    expect(serialize(buildManifest(sources, manifest).manifest)).toBe(onDisk);
  });

  it('has the Apollo shape; each id is the sha256 of its body; each body is one valid operation', () => {
    expect(manifest).toMatchObject({ format: 'apollo-persisted-query-manifest', version: 1 });
    expect(manifest.operations.length).toBeGreaterThan(0);
    for (const op of manifest.operations) {
      expect(op.id, op.name).toBe(sha256(op.body));
      const document = parse(op.body);
      expect(validate(schema, document), op.name).toEqual([]);
      const operation = operationOf(document);
      expect(operation.name?.value).toBe(op.name);
      expect(operation.operation).toBe(op.type);
    }
  });

  it('holds each id once, and one body per operation name among the files', () => {
    const ids = manifest.operations.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    const bodies = new Map<string, Set<string>>();
    for (const op of buildManifest(sources).manifest.operations) {
      bodies.set(op.name, (bodies.get(op.name) ?? new Set()).add(op.body));
    }
    for (const [name, set] of bodies) expect(set.size, name).toBe(1);
  });

  it('holds both clients’ operations', () => {
    const names = (dir: string) =>
      sources.filter((s) => s.path.startsWith(`clients/${dir}/`)).map((s) => operationOf(parse(s.text)).name?.value);
    expect(names('mobile')).toEqual(
      expect.arrayContaining([
        'RestaurantFeed',
        'RestaurantDetail',
        'SearchRestaurants',
        'MyOrders',
        'Recommendations',
        'ChefChoice',
        'CreateOrder',
        'RateOrder',
        'Login',
        'Register',
        'Cuisines',
        'SetTastePreferences',
      ]),
    );
    expect(names('web')).toEqual(
      expect.arrayContaining([
        'WebLogin',
        'WebRegister',
        'WebOnboarding',
        'WebSavePreferences',
        'Dashboard',
        'SimulateOrder',
        'ClearSimulatedOrders',
        'OrdersList',
      ]),
    );
    for (const name of [...names('mobile'), ...names('web')]) expect(() => byName(name!)).not.toThrow();
  });

  it('the feed is callable with no variables and reads only public data (cacheable by GET)', () => {
    const op = operationOf(parse(byName('RestaurantFeed').body));
    expect(op.operation).toBe('query');
    for (const v of op.variableDefinitions ?? []) {
      const optional = v.type.kind !== Kind.NON_NULL_TYPE || v.defaultValue !== undefined;
      expect(optional, `$${v.variable.name.value} is required`).toBe(true);
    }
    const roots = op.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : s.kind));
    expect(roots).toEqual(['restaurants']);
  });
});

describe('every operation is within the server’s limits', () => {
  const limits = DEFAULT_QUERY_LIMITS;

  /** The variables' defaults, as the server coerces them before pricing (a missing value prices at 1). */
  const defaults = (document: DocumentNode) => {
    const variables: Record<string, unknown> = {};
    for (const v of operationOf(document).variableDefinitions ?? []) {
      const type = typeFromAST(schema, v.type);
      if (v.defaultValue && type && isInputType(type))
        variables[v.variable.name.value] = valueFromAST(v.defaultValue, type);
    }
    return variables;
  };

  /** The variables that feed a `first` argument, all set to `size`. */
  const pageVariables = (document: DocumentNode, size: number) => {
    const variables: Record<string, number> = {};
    visit(document, {
      Argument(node) {
        if (node.name.value === 'first' && node.value.kind === Kind.VARIABLE) variables[node.value.name.value] = size;
      },
    });
    return variables;
  };

  const cost = (document: DocumentNode, variables: Record<string, unknown>) => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
    return operationCost(
      schema,
      operationOf(document),
      fragments,
      variables,
      Number.MAX_SAFE_INTEGER,
      limits.maxPageSize,
    );
  };

  const rejections = (document: DocumentNode) => {
    const found: string[] = [];
    const onReject = [(_: unknown, error: Error) => void found.push(error.message)];
    const rules = [
      maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: false, propagateOnRejection: false, onReject }),
      maxAliasesRule({ n: limits.maxAliases, propagateOnRejection: false, onReject }),
    ] as unknown as ValidationRule[];
    validate(schema, document, rules);
    return found;
  };

  it.each(manifest.operations.map((op) => [op.name, op] as const))('%s', (_, op: ManifestOperation) => {
    const document = parse(op.body);
    expect(rejections(document)).toEqual([]);
    expect(cost(document, defaults(document))).toBeLessThanOrEqual(limits.maxCost);
    expect(cost(document, { ...defaults(document), ...pageVariables(document, 20) })).toBeLessThanOrEqual(
      limits.maxCost,
    );
  });
});

describe('buildManifest', () => {
  const file = (name: string, text: string, dir = 'mobile'): SourceFile => ({
    path: `clients/${dir}/${name}.graphql`,
    text,
  });
  const entry = (name: string, body: string): ManifestOperation => ({ id: sha256(body), name, type: 'query', body });
  const previousOf = (...operations: ManifestOperation[]): Manifest => ({
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations,
  });

  it('normalises the body with print() and ids it by sha256', () => {
    const { manifest: built } = buildManifest([file('cuisines', '# picker\nquery   Cuisines{cuisines}')]);
    expect(built.operations).toEqual([entry('Cuisines', 'query Cuisines {\n  cuisines\n}')]);
  });

  it('keeps ids shipped before (append-only), once each, and reports them', () => {
    const old = entry('OldFeed', 'query OldFeed {\n  cuisines\n}');
    const current = entry('C', 'query C {\n  cuisines\n}');
    const { manifest: built, retained } = buildManifest([file('c', 'query C { cuisines }')], previousOf(old, current));
    expect(built.operations).toEqual([current, old]);
    expect(retained).toEqual([`OldFeed (${old.id.slice(0, 12)}…)`]);
  });

  it('keeps the old version of a changed operation next to the new one', () => {
    const v1 = entry('C', 'query C {\n  cuisines\n}');
    const { manifest: built } = buildManifest([file('c', 'query C { cuisines me { id } }')], previousOf(v1));
    expect(built.operations.map((o) => o.name)).toEqual(['C', 'C']);
    expect(built.operations.map((o) => o.id)).toContain(v1.id);
  });

  it('refuses an invalid file, naming it', () => {
    expect(() => buildManifest([file('broken', 'query Broken { nope }')])).toThrow(
      /clients\/mobile\/broken\.graphql.*nope/,
    );
    expect(() => buildManifest([file('syntax', 'query Syntax {')])).toThrow(/clients\/mobile\/syntax\.graphql/);
    expect(() => buildManifest([file('two', 'query Two { cuisines } query B { cuisines }')])).toThrow(
      /two\.graphql: expected exactly one operation, found 2/,
    );
    expect(() => buildManifest([file('none', 'fragment F on Query { cuisines }')])).toThrow(
      /none\.graphql: expected exactly one operation, found 0/,
    );
    expect(() => buildManifest([file('anon', '{ cuisines }')])).toThrow(/anon\.graphql: the operation needs a name/);
    expect(() => buildManifest([file('feed', 'query RestaurantFeed { cuisines }')])).toThrow(
      /feed\.graphql: the operation RestaurantFeed belongs in a file named restaurant-feed\.graphql/,
    );
  });

  it('refuses two different operations under one name; byte-identical ones share an entry', () => {
    expect(() => buildManifest([file('x', 'query X { cuisines }'), file('x', 'query X { me { id } }', 'web')])).toThrow(
      /clients\/web\/x\.graphql: clients\/mobile\/x\.graphql already has a different operation named X/,
    );
    const { manifest: built } = buildManifest([
      file('x', 'query X { cuisines }'),
      file('x', 'query X { cuisines }', 'web'),
    ]);
    expect(built.operations).toHaveLength(1);
  });

  it('refuses a previous manifest entry whose id is not its body’s sha256', () => {
    const forged = { ...entry('Old', 'query Old {\n  cuisines\n}'), id: 'a'.repeat(64) };
    expect(() => buildManifest([], previousOf(forged))).toThrow(/"Old".*not the sha256 of its body/);
  });
});
