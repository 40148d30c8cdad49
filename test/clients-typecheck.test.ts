/**
 * The clients' operations are type-checked against schema.graphql (codegen.ts): generation from
 * the real schema reproduces the committed clients/generated/operations.ts, and a schema without
 * a field the clients select fails, naming the field and each operation file that uses it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_DOCUMENTS, clientTypesConfig, GENERATED_FILE } from '../codegen.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const documents = CLIENT_DOCUMENTS.map((glob) => join(ROOT, glob));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clients-typecheck-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs codegen on `sdl` (written to the temp dir) and the real documents; returns the output text. */
async function generateFrom(sdl: string, name: string): Promise<string> {
  const schema = join(dir, `${name}.graphql`);
  const output = join(dir, `${name}.ts`);
  await writeFile(schema, sdl);
  await generate({ ...clientTypesConfig(schema, output, documents), silent: true }, true);
  return readFile(output, 'utf8');
}

describe('client operations against schema.graphql', () => {
  it('the committed clients/generated/operations.ts is what codegen makes (not stale)', async () => {
    const sdl = await readFile(join(ROOT, 'schema.graphql'), 'utf8');
    const generated = await generateFrom(sdl, 'schema');
    expect(generated).toBe(await readFile(join(ROOT, GENERATED_FILE), 'utf8'));
    expect(generated).toContain('export type RestaurantFeedQuery = ');
    expect(generated).toContain('export type CreateOrderMutationVariables = ');
  });

  it('removing Restaurant.cuisineType from the schema fails, naming the field and the operations', async () => {
    const sdl = await readFile(join(ROOT, 'schema.graphql'), 'utf8');
    const broken = sdl.replace(/^ {2}cuisineType: String!\n/m, '');
    expect(broken).not.toBe(sdl);
    const error = await generateFrom(broken, 'broken').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'codegen accepted operations that select a removed field').toBeInstanceOf(Error);
    const message = describeError(error);
    expect(message).toContain('Cannot query field "cuisineType" on type "Restaurant"');
    expect(message).toContain('clients/mobile/restaurant-feed.graphql');
    expect(message).toContain('clients/web/dashboard.graphql');
  });
});

/** The message of an error and of any errors it aggregates or wraps. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = [
    ...(error instanceof AggregateError ? error.errors : []),
    ...('cause' in error && error.cause ? [error.cause] : []),
  ];
  return [error.message, ...inner.map(describeError)].join('\n');
}
