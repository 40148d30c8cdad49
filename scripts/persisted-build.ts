/**
 * `npm run persisted:build`: clients/{mobile,web}/*.graphql → clients/persisted-operations.json,
 * Apollo's persisted-query manifest (id = sha256 hex of the printed body). With --check
 * (part of `npm run check`) it writes nothing and fails when the file on disk is stale.
 *
 * Each file holds exactly one named operation (and the fragments it uses), valid against the
 * schema, in a file named after it in kebab case (`query RestaurantFeed` → restaurant-feed.graphql).
 * The manifest is append-only: an id already shipped stays even when its file changes or
 * goes, since old app builds keep sending it for months.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type DocumentNode, Kind, parse, print, validate } from 'graphql';
import { schema } from '../src/schema/index.ts';

export type ManifestOperation = { id: string; name: string; type: 'query' | 'mutation' | 'subscription'; body: string };
export type Manifest = { format: 'apollo-persisted-query-manifest'; version: 1; operations: ManifestOperation[] };
export type SourceFile = { path: string; text: string };

const ROOT = fileURLToPath(new URL('../clients/', import.meta.url));
const CLIENT_DIRS = ['mobile', 'web'];
export const MANIFEST_FILE = join(ROOT, 'persisted-operations.json');
const MANIFEST_NAME = 'clients/persisted-operations.json';
const OPERATION_TYPES = new Set(['query', 'mutation', 'subscription']);

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** `RestaurantFeed` → `restaurant-feed` (the file an operation lives in). */
export const kebabCase = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();

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
  const body = print(document);
  return { id: sha256(body), name, type: op.operation, body };
}

/**
 * The manifest for these files, keeping every entry of `previous` (append-only).
 * `retained`: the previous entries no current file produces any more.
 * @throws Error when a file is invalid, two different bodies share a name, or `previous`
 *   holds an entry that is not a well-formed manifest operation
 */
export function buildManifest(files: SourceFile[], previous?: Manifest): { manifest: Manifest; retained: string[] } {
  const byId = new Map<string, ManifestOperation>();
  const seen = new Map<string, { body: string; path: string }>();
  for (const file of files) {
    const op = operationOf(file);
    const other = seen.get(op.name);
    if (other && other.body !== op.body) {
      throw new Error(`${file.path}: ${other.path} already has a different operation named ${op.name}`);
    }
    seen.set(op.name, { body: op.body, path: file.path });
    byId.set(op.id, op);
  }
  const retained: string[] = [];
  for (const old of previous?.operations ?? []) {
    checkEntry(old);
    if (byId.has(old.id)) continue;
    byId.set(old.id, { id: old.id, name: old.name, type: old.type, body: old.body });
    const stale = validate(schema, parse(old.body)).length > 0 ? ', no longer valid against the schema' : '';
    retained.push(`${old.name} (${old.id.slice(0, 12)}…${stale})`);
  }
  const operations = [...byId.values()].sort(
    (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return { manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations }, retained };
}

/** An entry of the previous manifest, as the server will load it (src/http/persisted.ts). */
function checkEntry(op: ManifestOperation) {
  const what = `${MANIFEST_NAME}: entry ${JSON.stringify(op?.name ?? op?.id ?? op)}`;
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
 * The manifest on disk. Missing: none yet. Present but unreadable: an error, never an empty
 * manifest, since rewriting it would drop ids that shipped.
 */
function readPrevious(): { text: string; manifest?: Manifest } {
  if (!existsSync(MANIFEST_FILE)) return { text: '' };
  const text = readFileSync(MANIFEST_FILE, 'utf8');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (error) {
    throw new Error(`${MANIFEST_NAME} is not JSON (${(error as Error).message}); restore it from git`);
  }
  if (manifest?.format !== 'apollo-persisted-query-manifest' || !Array.isArray(manifest.operations)) {
    throw new Error(`${MANIFEST_NAME} is not an apollo-persisted-query-manifest; restore it from git`);
  }
  return { text, manifest };
}

function main() {
  const check = process.argv.includes('--check');
  const previous = readPrevious();
  const { manifest, retained } = buildManifest(readSources(), previous.manifest);
  const text = serialize(manifest);
  if (check) {
    if (text !== previous.text) {
      process.stderr.write(`${MANIFEST_NAME} is stale: run npm run persisted:build (and commit it)\n`);
      process.exit(1);
    }
    process.stdout.write(`${MANIFEST_NAME} is up to date (${manifest.operations.length} operations)\n`);
    return;
  }
  if (text !== previous.text) writeFileSync(MANIFEST_FILE, text);
  process.stdout.write(
    `${text === previous.text ? 'unchanged' : 'wrote'} ${MANIFEST_NAME}: ${manifest.operations.length} operations\n`,
  );
  if (retained.length > 0) {
    process.stdout.write(
      `note: kept ${retained.length} id(s) no file produces any more (append-only; old builds may send them): ${retained.join(', ')}\n`,
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
