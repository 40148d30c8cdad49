import type { IncomingMessage } from 'node:http';

/**
 * The client's address, for per-address limits. By default the TCP peer. Behind a
 * proxy every request comes from the proxy, so CLIENT_IP_HEADER names the header the
 * proxy sets (Fly: `Fly-Client-IP`). Set it only when every request passes through
 * that proxy: otherwise a client can send the header itself and pick its address.
 */
export function clientAddress(request: Request, req: IncomingMessage | undefined, header: string | undefined): string {
  if (header) {
    const value = request.headers.get(header)?.split(',')[0]?.trim();
    if (value) return value.slice(0, 64);
  }
  return req?.socket?.remoteAddress ?? 'unknown';
}
