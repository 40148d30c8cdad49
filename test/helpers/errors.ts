import { expect } from 'vitest';
import type { GraphQLResponse } from './app.ts';

type Body = GraphQLResponse['body'];
type GraphQLErrorBody = NonNullable<Body['errors']>[number];

/** No stack trace, SQL, file path or internals anywhere in the body. */
export function expectNoLeaks(body: unknown) {
  const text = JSON.stringify(body);
  expect(text).not.toContain('at /');
  expect(text).not.toMatch(/\bSELECT\b/i);
  expect(text).not.toMatch(/\bFROM (restaurants|orders|users)\b/i);
  expect(text).not.toContain('node_modules');
  expect(text).not.toMatch(/stack/i);
}

/**
 * The error shape of docs/contract.md ("Error codes"): the first error has `code` and a message
 * matching `message`, every error has a code, nothing leaks. Returns the first error.
 */
export function expectErrorShape(body: Body, code: string, message: RegExp): GraphQLErrorBody {
  const text = JSON.stringify(body);
  expect(body.errors, text).toBeDefined();
  expect(body.errors!.length, text).toBeGreaterThan(0);
  const [first] = body.errors!;
  expect(first!.extensions?.code, text).toBe(code);
  expect(first!.message, text).toMatch(message);
  for (const e of body.errors!) expect(e.extensions?.code, text).toBeTruthy();
  expectNoLeaks(body);
  return first!;
}
