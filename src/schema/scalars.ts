import { Kind } from 'graphql';
import { badUserInput } from '../errors.ts';
import { builder } from './builder.ts';

function parseDate(value: unknown): Date {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime()))
    throw badUserInput('DateTime must be an ISO 8601 string, e.g. 2026-01-31T12:00:00Z');
  return date;
}

/** ISO 8601 timestamps in UTC. */
builder.scalarType('DateTime', {
  description: 'An ISO 8601 timestamp in UTC, e.g. 2026-01-31T12:00:00.000Z',
  serialize: (value) => value.toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : null),
});
