import { Kind } from 'graphql';
import { badUserInput } from '../errors.ts';
import { builder } from './builder.ts';

function parseDate(value: unknown): Date {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime()))
    throw badUserInput('DateTime must be an ISO 8601 string, e.g. 2026-01-31T12:00:00Z');
  return date;
}

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DAY_MS = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the years toISOString writes with four digits. */
const FIRST_MS = -62_167_219_200_000;
const LAST_MS = 253_402_300_799_999;

/**
 * `date.toISOString()`, in JavaScript: V8's own took ~0.6 µs a call here against ~0.3, and a page
 * of 50 orders writes 50 of them (~3 % of benchmark Q2's CPU). The civil date from the day count
 * is Howard Hinnant's `civil_from_days`. Outside years 0000–9999, and for an invalid Date (which
 * throws), V8's own.
 */
export function isoTimestamp(date: Date): string {
  const t = date.getTime();
  if (!(t >= FIRST_MS && t <= LAST_MS)) return date.toISOString();
  const days = Math.floor(t / DAY_MS);
  let ms = t - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(ms / 3_600_000);
  ms -= h * 3_600_000;
  const min = Math.floor(ms / 60_000);
  ms -= min * 60_000;
  const sec = Math.floor(ms / 1000);
  ms -= sec * 1000;
  return `${PAD2[Math.floor(year / 100)]}${PAD2[year % 100]}-${PAD2[month]}-${PAD2[day]}T${PAD2[h]}:${PAD2[min]}:${PAD2[sec]}.${PAD3[ms]}Z`;
}

/** ISO 8601 timestamps in UTC. */
builder.scalarType('DateTime', {
  description: 'An ISO 8601 timestamp in UTC, e.g. 2026-01-31T12:00:00.000Z',
  serialize: isoTimestamp,
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : null),
});
