import type { IncomingMessage } from 'node:http';

/**
 * The client's address, for per-address limits. By default the TCP peer. Behind a
 * proxy every request comes from the proxy, so CLIENT_IP_HEADER names the header the
 * proxy sets. Set it only when every request passes through that proxy: otherwise a
 * client can send the header itself and pick its address.
 *
 * A single-value header (Fly: `Fly-Client-IP`) is taken as it is: the proxy overwrites
 * it. `X-Forwarded-For` is a list every proxy appends to, and its left part is whatever
 * the client wrote: the address is the entry `trustedHops` from the right, the one the
 * outermost trusted proxy appended (TRUSTED_PROXY_HOPS, default 1: the rightmost).
 */
export function clientAddress(
  request: Request,
  req: IncomingMessage | undefined,
  header: string | undefined,
  trustedHops = 1,
): string {
  if (header) {
    const raw = request.headers.get(header);
    const value = header.toLowerCase() === 'x-forwarded-for' ? fromForwardedFor(raw ?? '', trustedHops) : raw?.trim();
    if (value) return value.slice(0, 64);
  }
  return req?.socket?.remoteAddress ?? 'unknown';
}

/** Several header lines arrive joined with ", "; fewer entries than hops: the leftmost (the farthest seen). */
function fromForwardedFor(value: string, trustedHops: number): string | undefined {
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries[Math.max(0, entries.length - trustedHops)];
}
