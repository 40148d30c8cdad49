/**
 * `npm run persisted:build`: clients/{mobile,web}/*.graphql → two Apollo persisted-query manifests
 * (`{format: 'apollo-persisted-query-manifest', version: 1, operations: [{id, name, type, body}]}`,
 * id = sha256 hex of the body):
 * - clients/persisted-operations.json: exactly one entry per operation name, the body Apollo Client
 *   and urql send. Client tooling keys operations by name (the last entry of a name wins), so
 *   this file is what a client build reads.
 * - clients/persisted-operations.retired.json: every id shipped before that no file produces any
 *   more, kept so that old app builds, which send them for months, keep working. The server
 *   serves both files; no client reads this one.
 * With --check (part of `npm run check`) it writes nothing and fails when either file is stale.
 *
 * A body is the document as the clients transform it before sending: Apollo Client's
 * `addTypenameToDocument` (`__typename` in every selection set but the operation's root, which is
 * what normalised caches key entities and invalidate lists by; urql's cacheExchange adds the same)
 * and the top-level definitions in the order of `sortTopLevelDefinitions`, printed by graphql-js.
 * That is what Apollo's manifest generator writes, what its verification link compares, and what
 * `generatePersistedQueryIdsAtRuntime` hashes, so ids computed at run time equal the manifest's.
 *
 * Each file holds exactly one named operation (and the fragments it uses), valid against the
 * schema, in a file named after it in kebab case (`query RestaurantFeed` → restaurant-feed.graphql).
 * Together the two files are append-only: an id already shipped is never dropped, it moves to the
 * retired file when its body changes or its file goes (and back when the body comes back).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { addTypenameToDocument } from '@apollo/client/utilities';
import { sortTopLevelDefinitions } from '@apollo/persisted-query-lists';
import { type DocumentNode, Kind, parse, print, validate } from 'graphql';
import { schema } from '../src/schema/index.ts';

export type ManifestOperation = { id: string; name: string; type: 'query' | 'mutation' | 'subscription'; body: string };
export type Manifest = { format: 'apollo-persisted-query-manifest'; version: 1; operations: ManifestOperation[] };
export type SourceFile = { path: string; text: string };
/** The two files as they were before this build. */
export type Previous = { manifest?: Manifest; retired?: Manifest };

const ROOT = fileURLToPath(new URL('../clients/', import.meta.url));
const CLIENT_DIRS = ['mobile', 'web'];
export const MANIFEST_FILE = join(ROOT, 'persisted-operations.json');
export const RETIRED_FILE = join(ROOT, 'persisted-operations.retired.json');
const MANIFEST_NAME = 'clients/persisted-operations.json';
const RETIRED_NAME = 'clients/persisted-operations.retired.json';
const OPERATION_TYPES = new Set(['query', 'mutation', 'subscription']);

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** `RestaurantFeed` → `restaurant-feed` (the file an operation lives in). */
export const kebabCase = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();

/**
 * The text a client sends for this document (and hashes, with ids computed at run time): Apollo
 * Client's own transform, then `print(sortTopLevelDefinitions(…))` as in @apollo/persisted-query-lists.
 */
export const clientBody = (document: DocumentNode) => print(sortTopLevelDefinitions(addTypenameToDocument(document)));

/** The clients' operation files, sorted by path (clients/mobile/… before clients/web/…). */
export function readSources(root = ROOT): SourceFile[] {
  return CLIENT_DIRS.flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.graphql'))
      .sort()
      .map((f) => ({ path: `clients/${dir}/${f}`, text: readFileSync(join(root, dir, f), 'utf8') })),
  );
}

/** One file → one manifest entry. @throws Error naming the file and what is wrong */
export function operationOf(file: SourceFile): ManifestOperation {
  let document: DocumentNode;
  try {
    document = parse(file.text);
  } catch (error) {
    throw new Error(`${file.path}: ${(error as Error).message}`);
  }
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) {
    throw new Error(`${file.path}: expected exactly one operation, found ${operations.length}`);
  }
  const [op] = operations;
  if (!op?.name) throw new Error(`${file.path}: the operation needs a name`);
  const name = op.name.value;
  const expected = `${kebabCase(name)}.graphql`;
  if (file.path.split('/').pop() !== expected) {
    throw new Error(`${file.path}: the operation ${name} belongs in a file named ${expected}`);
  }
  const errors = validate(schema, document);
  if (errors.length > 0) throw new Error(`${file.path}: ${errors.map((e) => e.message).join('; ')}`);
  const body = clientBody(document);
  return { id: sha256(body), name, type: op.operation, body };
}

const byNameThenId = (a: ManifestOperation, b: ManifestOperation) =>
  (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const manifestOf = (operations: ManifestOperation[]): Manifest => ({
  format: 'apollo-persisted-query-manifest',
  version: 1,
  operations: operations.sort(byNameThenId),
});

/**
 * The two manifests for these files. `manifest`: one entry per operation name. `retired`: every
 * entry of `previous` (either file) that no current file produces, so that no id ever goes.
 * `newlyRetired`: those that were in the previous manifest (this build retires them).
 * @throws Error when a file is invalid, two different bodies share a name, or `previous`
 *   holds an entry that is not a well-formed manifest operation
 */
export function buildManifest(
  files: SourceFile[],
  previous: Previous = {},
): { manifest: Manifest; retired: Manifest; newlyRetired: string[] } {
  const current = new Map<string, ManifestOperation>();
  const seen = new Map<string, { body: string; path: string }>();
  for (const file of files) {
    const op = operationOf(file);
    const other = seen.get(op.name);
    if (other && other.body !== op.body) {
      throw new Error(`${file.path}: ${other.path} already has a different operation named ${op.name}`);
    }
    seen.set(op.name, { body: op.body, path: file.path });
    current.set(op.id, op);
  }
  const retired = new Map<string, ManifestOperation>();
  const newlyRetired: string[] = [];
  const keep = (old: ManifestOperation, file: string, isNew: boolean) => {
    checkEntry(old, file);
    if (current.has(old.id) || retired.has(old.id)) return;
    retired.set(old.id, { id: old.id, name: old.name, type: old.type, body: old.body });
    if (!isNew) return;
    const stale = validate(schema, parse(old.body)).length > 0 ? ', no longer valid against the schema' : '';
    newlyRetired.push(`${old.name} (${old.id.slice(0, 12)}…${stale})`);
  };
  for (const old of previous.retired?.operations ?? []) keep(old, RETIRED_NAME, false);
  for (const old of previous.manifest?.operations ?? []) keep(old, MANIFEST_NAME, true);
  return { manifest: manifestOf([...current.values()]), retired: manifestOf([...retired.values()]), newlyRetired };
}

/** An entry of a previous file, as the server will load it (src/http/persisted.ts). */
function checkEntry(op: ManifestOperation, file: string) {
  const what = `${file}: entry ${JSON.stringify(op?.name ?? op?.id ?? op)}`;
  if (typeof op?.id !== 'string' || typeof op.name !== 'string' || typeof op.body !== 'string') {
    throw new Error(`${what} needs a string id, name and body`);
  }
  if (!OPERATION_TYPES.has(op.type)) throw new Error(`${what} has the type ${JSON.stringify(op.type)}`);
  if (sha256(op.body) !== op.id) throw new Error(`${what}: its id is not the sha256 of its body`);
  try {
    parse(op.body);
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

export const serialize = (manifest: Manifest) => `${JSON.stringify(manifest, null, 2)}\n`;

/**
 * A manifest file on disk. Missing: undefined. Present but unreadable: an error, never an empty
 * manifest, since rewriting it would drop ids that shipped.
 */
function readFile(path: string, name: string): { text: string; manifest?: Manifest } {
  if (!existsSync(path)) return { text: '' };
  const text = readFileSync(path, 'utf8');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (error) {
    throw new Error(`${name} is not JSON (${(error as Error).message}); restore it from git`);
  }
  if (manifest?.format !== 'apollo-persisted-query-manifest' || !Array.isArray(manifest.operations)) {
    throw new Error(`${name} is not an apollo-persisted-query-manifest; restore it from git`);
  }
  return { text, manifest };
}

function main() {
  const check = process.argv.includes('--check');
  const manifestFile = readFile(MANIFEST_FILE, MANIFEST_NAME);
  const retiredFile = readFile(RETIRED_FILE, RETIRED_NAME);
  // Without it, the ids it held would silently stop working: only a first build may lack it.
  if (manifestFile.manifest && !retiredFile.manifest) {
    throw new Error(`${RETIRED_NAME} is missing: restore it from git (it holds the ids old app builds still send)`);
  }
  const built = buildManifest(readSources(), { manifest: manifestFile.manifest, retired: retiredFile.manifest });
  const outputs = [
    { path: MANIFEST_FILE, name: MANIFEST_NAME, text: serialize(built.manifest), before: manifestFile.text },
    { path: RETIRED_FILE, name: RETIRED_NAME, text: serialize(built.retired), before: retiredFile.text },
  ];
  const counts = `${built.manifest.operations.length} operations, ${built.retired.operations.length} retired ids`;
  const stale = outputs.filter((o) => o.text !== o.before);
  if (check) {
    if (stale.length > 0) {
      const names = stale.map((o) => o.name).join(' and ');
      process.stderr.write(
        `${names} ${stale.length > 1 ? 'are' : 'is'} stale: run npm run persisted:build (and commit)\n`,
      );
      process.exit(1);
    }
    process.stdout.write(`${MANIFEST_NAME} and ${RETIRED_NAME} are up to date (${counts})\n`);
    return;
  }
  for (const o of stale) writeFileSync(o.path, o.text);
  process.stdout.write(
    `${stale.length > 0 ? `wrote ${stale.map((o) => o.name).join(', ')}` : 'unchanged'}: ${counts}\n`,
  );
  if (built.newlyRetired.length > 0) {
    process.stdout.write(
      `note: moved ${built.newlyRetired.length} id(s) no file produces any more to ${RETIRED_NAME} (old builds may send them): ${built.newlyRetired.join(', ')}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`persisted:build: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
