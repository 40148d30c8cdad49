/**
 * clients/persisted-operations.json and its retired ids (persisted-operations.retired.json): fresh,
 * every id the sha256 of its body, every body valid and within the server's limits, exactly one
 * entry per name in the manifest, each body the document as Apollo Client sends it (`__typename`
 * added, what the verification link compares and runtime ids hash), every id shipped before still
 * served, the anonymous feed callable with no variables, append-only across both files, bad files
 * refused by name. Pure: no database, no server.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { addTypenameToDocument } from '@apollo/client/utilities';
import { sortTopLevelDefinitions } from '@apollo/persisted-query-lists';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  isInputType,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
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
  RETIRED_FILE,
  readSources,
  type SourceFile,
  serialize,
} from '../scripts/persisted-build.ts';
import { loadConfig } from '../src/config.ts';
import { operationCost } from '../src/http/cost.ts';
import { loadManifest, MANIFEST_PATH, RETIRED_MANIFEST_PATH } from '../src/http/persisted.ts';
import { schema } from '../src/schema/index.ts';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const onDisk = readFileSync(MANIFEST_FILE, 'utf8');
const manifest = JSON.parse(onDisk) as Manifest;
const retiredOnDisk = readFileSync(RETIRED_FILE, 'utf8');
const retired = JSON.parse(retiredOnDisk) as Manifest;
/** Every id the manifest held before its bodies carried `__typename`: old app builds send them. */
const SHIPPED_WITHOUT_TYPENAME = [
  '4f827205609e5bcd4a9f6628e108297b9a0437f9aad8d80d61345896b361dbf7', // ChefChoice
  '67da5e977e0ca8434606fb36fdc6ca456272a7a6cd00fecafcabf441bbabf28d', // ClearSimulatedOrders
  'd6c5650f0dfb8ab4a48088885c24391ef7dc11c1e0cd101324af3cd51d289aa4', // CreateOrder
  'd937ac4839a0696a26a2b59f5ea724365d290aad1ed9a099e6e9aa1c6225f116', // Cuisines
  'b0b35e0d557ee1528a4160f3738e0cbd76da25f331756fbff658cdbfe1d1b713', // Dashboard
  '6aa59b729c5cea9d78504f8aa7acef5f565df12603ded9ca3b09e10bbca74406', // Login
  'dc56c89d33e94594804d917f1558712f75955414bedc906e56b7216356c83337', // MyOrders
  '2952976c936322b2d21f604ad606ec1ef5fcd19211dc7a150336fa8b2f40475c', // OrdersList
  'ce842e00788f8498b723285e0a6c9670c0d066ba1426e2e9c000cbadabadde45', // RateOrder
  'f68cd6c58e1c0a3b5dffcb43a4c87cad417f3958f7614606ae11e44166bab69f', // Recommendations
  '5b0eaccfd9c7fc99a72fbd0e25674ab511ccabf4192faa71477435eb4c4ab6d2', // Register
  '1b1af6b165113e2a891548969566a4b719c08755bc620e861786546cc6fde266', // RestaurantDetail
  '5dbb9818f69120944b90956a1800c6e7d6d4ab6eee3b23a623575f316b3c240f', // RestaurantFeed
  '0b8fe374487d25a075cd14896ec69155c49d911aeb2538d011a5a74b87e95a19', // SearchRestaurants
  'c42cdbdb655cdd4dcb1142133b79cd01efd0215140a9603c624c7c59b7040caf', // SetTastePreferences
  '7068b0e9260289a8a1814ddc4017e0e40bf8302119d314791b7d767b800d590b', // SimulateOrder
  '6c5f6125a3a180a27d9769bcdbf1823863ec722cf2970e7fef601a714509c8ac', // SimulatorRestaurants
  '21a3285d498537043464d1aa86be9bfdab7f7692118f5e79297bd37eaad1eedf', // WebLogin
  '079307e6fc142d9e7413a41ee081d223f77863979738a1287704c38564b7f1a9', // WebOnboarding
  'ac354a17c14788216b3920693e80f9c942de10b92658c6e4333a18b3de1c1608', // WebRegister
  'cec643da819175ac7f6d12c5831da706f625fbac5a01bfa2215ee6af52d56a06', // WebSavePreferences
];
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

describe('the manifest files', () => {
  it('are what persisted:build makes from clients/ (not stale)', () => {
    const built = buildManifest(sources, { manifest, retired });
    expect(serialize(built.manifest)).toBe(onDisk);
    expect(serialize(built.retired)).toBe(retiredOnDisk);
    expect(built.newlyRetired).toEqual([]);
  });

  it('have the Apollo shape; each id is the sha256 of its body; each body is one operation', () => {
    for (const file of [manifest, retired]) {
      expect(file).toMatchObject({ format: 'apollo-persisted-query-manifest', version: 1 });
      for (const op of file.operations) {
        expect(op.id, op.name).toBe(sha256(op.body));
        const operation = operationOf(parse(op.body));
        expect(operation.name?.value).toBe(op.name);
        expect(operation.operation).toBe(op.type);
      }
    }
    expect(manifest.operations.length).toBeGreaterThan(0);
    for (const op of manifest.operations) expect(validate(schema, parse(op.body)), op.name).toEqual([]);
  });

  it('the manifest holds exactly one entry per operation name: one per file', () => {
    const names = manifest.operations.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(sources.map((s) => operationOf(parse(s.text)).name?.value).sort());
  });

  it('each body is the file as Apollo Client sends it: __typename in every selection set below the root', () => {
    for (const source of sources) {
      const document = parse(source.text);
      const op = byName(operationOf(document).name!.value);
      // What createPersistedQueryManifestVerificationLink compares and generatePersistedQueryIdsAtRuntime hashes.
      expect(op.body, source.path).toBe(print(sortTopLevelDefinitions(addTypenameToDocument(document))));
      const sent = parse(op.body);
      const root = operationOf(sent).selectionSet;
      let nested = 0;
      visit(sent, {
        SelectionSet(node) {
          if (node === root) return;
          nested++;
          const names = node.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : s.kind));
          expect(names, `${op.name}: a selection set without __typename`).toContain('__typename');
        },
      });
      if (/\{[^}]*\{/.test(source.text)) expect(nested, op.name).toBeGreaterThan(0);
    }
  });

  it('every id shipped before is still served: by the manifest or the retired file, never both', () => {
    const current = new Set(manifest.operations.map((o) => o.id));
    const old = retired.operations.map((o) => o.id);
    expect(new Set(old).size).toBe(old.length);
    for (const id of old) expect(current.has(id), id).toBe(false);
    const served = loadManifest();
    expect(served.size).toBe(current.size + old.length);
    for (const id of [...current, ...old, ...SHIPPED_WITHOUT_TYPENAME]) expect(served.has(id), id).toBe(true);
    // The bodies without __typename changed, so their ids are retired (scalar-only ones stayed the same).
    const unchanged = SHIPPED_WITHOUT_TYPENAME.filter((id) => current.has(id)).map(
      (id) => manifest.operations.find((o) => o.id === id)!.name,
    );
    expect(unchanged.sort()).toEqual(['ClearSimulatedOrders', 'Cuisines']);
  });

  it('the server refuses to start without the retired file, naming it', () => {
    expect(loadManifest([MANIFEST_PATH, RETIRED_MANIFEST_PATH]).size).toBeGreaterThan(manifest.operations.length);
    const missing = `${RETIRED_MANIFEST_PATH}.missing`;
    expect(() => loadManifest([MANIFEST_PATH, missing])).toThrow(missing);
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
  const limits = loadConfig({}).queryLimits;

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

  it('prints the body as Apollo Client sends it (__typename below the root, operations before fragments)', () => {
    const { manifest: built } = buildManifest([file('cuisines', '# picker\nquery   Cuisines{cuisines}')]);
    expect(built.operations).toEqual([entry('Cuisines', 'query Cuisines {\n  cuisines\n}')]);
    const { manifest: nested } = buildManifest([
      file('me', 'fragment Who on User { name } query Me { me { id ...Who } }', 'web'),
    ]);
    expect(nested.operations).toEqual([
      entry(
        'Me',
        'query Me {\n  me {\n    id\n    ...Who\n    __typename\n  }\n}\n\nfragment Who on User {\n  name\n  __typename\n}',
      ),
    ]);
  });

  it('moves a shipped id no file produces to the retired file, once, and reports it', () => {
    const old = entry('OldFeed', 'query OldFeed {\n  cuisines\n}');
    const current = entry('C', 'query C {\n  cuisines\n}');
    const built = buildManifest([file('c', 'query C { cuisines }')], { manifest: previousOf(old, current) });
    expect(built.manifest.operations).toEqual([current]);
    expect(built.retired.operations).toEqual([old]);
    expect(built.newlyRetired).toEqual([`OldFeed (${old.id.slice(0, 12)}…)`]);
    // The next build keeps it retired, and reports nothing new.
    const next = buildManifest([file('c', 'query C { cuisines }')], built);
    expect(next.retired.operations).toEqual([old]);
    expect(next.newlyRetired).toEqual([]);
  });

  it('a changed operation: the new body alone under its name, the old one retired; a revert brings it back', () => {
    const v1 = entry('C', 'query C {\n  cuisines\n}');
    const v2 = buildManifest([file('c', 'query C { cuisines me { id } }')], { manifest: previousOf(v1) });
    expect(v2.manifest.operations).toHaveLength(1);
    expect(v2.manifest.operations[0]!.body).toContain('__typename');
    expect(v2.retired.operations).toEqual([v1]);
    const v3 = buildManifest([file('c', 'query C { cuisines }')], v2);
    expect(v3.manifest.operations).toEqual([v1]);
    expect(v3.retired.operations).toEqual(v2.manifest.operations);
    const ids = (b: typeof v2) => [...b.manifest.operations, ...b.retired.operations].map((o) => o.id).sort();
    expect(ids(v3)).toEqual(ids(v2));
  });

  it('never drops a retired id, even one no longer valid against the schema', () => {
    const gone = entry('Gone', 'query Gone {\n  noSuchField\n}');
    const built = buildManifest([], { manifest: previousOf(), retired: previousOf(gone) });
    expect(built.retired.operations).toEqual([gone]);
    const reported = buildManifest([], { manifest: previousOf(gone) });
    expect(reported.newlyRetired).toEqual([`Gone (${gone.id.slice(0, 12)}…, no longer valid against the schema)`]);
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

  it('refuses a previous entry, in either file, whose id is not its body’s sha256', () => {
    const forged = { ...entry('Old', 'query Old {\n  cuisines\n}'), id: 'a'.repeat(64) };
    expect(() => buildManifest([], { manifest: previousOf(forged) })).toThrow(
      /persisted-operations\.json: entry "Old".*not the sha256 of its body/,
    );
    expect(() => buildManifest([], { retired: previousOf(forged) })).toThrow(
      /persisted-operations\.retired\.json: entry "Old".*not the sha256 of its body/,
    );
  });
});
