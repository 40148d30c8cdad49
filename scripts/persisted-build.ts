/**
 * `npm run persisted:build`: clients/{mobile,web}/*.graphql → clients/persisted-operations.json,
 * Apollo's persisted-query manifest (id = sha256 hex of the printed body). With --check
 * (part of `npm run check`) it writes nothing and fails when the file on disk is stale.
 *
 * Each file holds exactly one operation (and the fragments it uses), valid against the
 * schema. The manifest is append-only: an id already shipped stays even when its file
 * changes or goes, since old app builds keep sending it for months.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Kind, parse, print, validate } from 'graphql';
import { schema } from '../src/schema/index.ts';

export type ManifestOperation = { id: string; name: string; type: 'query' | 'mutation' | 'subscription'; body: string };
export type Manifest = { format: 'apollo-persisted-query-manifest'; version: 1; operations: ManifestOperation[] };
export type SourceFile = { path: string; text: string };

const ROOT = fileURLToPath(new URL('../clients/', import.meta.url));
export const CLIENT_DIRS = ['mobile', 'web'];
export const MANIFEST_FILE = join(ROOT, 'persisted-operations.json');

/** The clients' operation files, sorted by path. */
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
  let document: ReturnType<typeof parse>;
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
  const errors = validate(schema, document);
  if (errors.length > 0) throw new Error(`${file.path}: ${errors.map((e) => e.message).join('; ')}`);
  const body = print(document);
  return {
    id: createHash('sha256').update(body, 'utf8').digest('hex'),
    name: op.name.value,
    type: op.operation,
    body,
  };
}

/**
 * The manifest for these files, keeping every entry of `previous` (append-only).
 * @throws Error when a file is invalid, or two different bodies share a name
 */
export function buildManifest(files: SourceFile[], previous?: Manifest): { manifest: Manifest; retained: string[] } {
  const byId = new Map<string, ManifestOperation>();
  const bodyByName = new Map<string, string>();
  for (const file of files) {
    const op = operationOf(file);
    const other = bodyByName.get(op.name);
    if (other !== undefined && other !== op.body) {
      throw new Error(`${file.path}: another file already has an operation named ${op.name}`);
    }
    bodyByName.set(op.name, op.body);
    byId.set(op.id, op);
  }
  const retained: string[] = [];
  for (const old of previous?.operations ?? []) {
    if (!byId.has(old.id)) {
      byId.set(old.id, old);
      retained.push(`${old.name} (${old.id.slice(0, 12)}…)`);
    }
  }
  const operations = [...byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return { manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations }, retained };
}

export const serialize = (manifest: Manifest) => `${JSON.stringify(manifest, null, 2)}\n`;

function readPrevious(): { text: string; manifest?: Manifest } {
  try {
    const text = readFileSync(MANIFEST_FILE, 'utf8');
    return { text, manifest: JSON.parse(text) as Manifest };
  } catch {
    return { text: '' };
  }
}

function main() {
  const check = process.argv.includes('--check');
  const previous = readPrevious();
  const { manifest, retained } = buildManifest(readSources(), previous.manifest);
  const text = serialize(manifest);
  if (check) {
    if (text !== previous.text) {
      process.stderr.write(
        'clients/persisted-operations.json is stale: run `npm run persisted:build` and commit it.\n',
      );
      process.exit(1);
    }
    process.stdout.write(
      `clients/persisted-operations.json is up to date (${manifest.operations.length} operations).\n`,
    );
    return;
  }
  writeFileSync(MANIFEST_FILE, text);
  process.stdout.write(`wrote clients/persisted-operations.json: ${manifest.operations.length} operations\n`);
  if (retained.length > 0) {
    process.stdout.write(`kept (shipped before, no longer in clients/): ${retained.join(', ')}\n`);
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
