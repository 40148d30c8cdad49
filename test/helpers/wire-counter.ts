/**
 * A PostgreSQL-protocol TCP proxy that counts what crosses the wire, for tests and the benchmark.
 *
 * Bytes are piped both ways unchanged; a copy of the stream is split into protocol frames to count:
 *  - statements: every Query ('Q', simple protocol) and Execute ('E', extended protocol) message from the client,
 *    including BEGIN/COMMIT, SET, DISCARD ALL, pings. The SQL of an Execute comes from the Parse ('P') of the
 *    statement its portal was bound ('B') to. A multi-statement simple query is ONE Query message (one round trip);
 *    a cursor that executes a portal several times counts each Execute.
 *  - rows/rowBytes: every DataRow ('D') from the server and its payload size (length field − 4).
 *
 * The proxy cannot speak TLS: it answers an SSLRequest / GSSENCRequest with 'N' itself (so `sslmode=prefer`
 * clients fall back to plain text; `sslmode=require` clients fail clearly).
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

export type WireStatement = { sql: string; kind: 'simple' | 'extended' };
export type WireCounter = {
  /** postgres URL pointing at the proxy (same user/password/database as the target URL, host 127.0.0.1, the proxy's port) */
  url: string;
  /** statements (Query + Execute messages) since the last reset (a copy) */
  readonly statements: WireStatement[];
  /** number of DataRow messages and their total payload bytes since the last reset */
  readonly rows: number;
  readonly rowBytes: number;
  reset(): void;
  /**
   * Resolves when no statement has been sent and no ReadyForQuery received for `quietMs` (default 20) and every
   * sent Query/Sync has received its ReadyForQuery — use after a request to make sure counting is complete.
   * Rejects after `timeoutMs` (default 30 000) if the traffic never settles.
   */
  settle(quietMs?: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Startup packets are small; anything bigger is garbage (PostgreSQL itself caps them at 10 000 bytes). */
const MAX_STARTUP_LENGTH = 10_000;

type FrameHandler = (type: number, length: number, body: Buffer | null) => void;

/**
 * Incremental splitter for typed frames (1 byte type + int32 length including itself + payload). Chunks may split
 * or merge frames arbitrarily. Bodies are only collected for the types `wantBody` accepts; the others (e.g. large
 * DataRows) are skipped without copying.
 */
class FrameReader {
  private readonly header = Buffer.alloc(5);
  private headerFill = 0;
  private type = 0;
  private remaining = 0; // payload bytes still to come for the current frame
  private length = 0;
  private body: Buffer | null = null;
  private bodyFill = 0;
  private inBody = false;

  constructor(
    private readonly wantBody: (type: number) => boolean,
    private readonly onFrame: FrameHandler,
  ) {}

  push(chunk: Buffer, start = 0): void {
    let offset = start;
    while (offset < chunk.length) {
      if (!this.inBody) {
        const take = Math.min(5 - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < 5) return;
        this.headerFill = 0;
        this.type = this.header[0]!;
        this.length = this.header.readInt32BE(1);
        if (this.length < 4) throw new Error(`invalid frame length ${this.length} for type ${this.type}`);
        this.remaining = this.length - 4;
        this.body = this.wantBody(this.type) ? Buffer.alloc(this.remaining) : null;
        this.bodyFill = 0;
        this.inBody = true;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      if (this.body) chunk.copy(this.body, this.bodyFill, offset, offset + take);
      this.bodyFill += take;
      this.remaining -= take;
      offset += take;
      if (this.remaining === 0) {
        this.inBody = false;
        const body = this.body;
        this.body = null;
        this.onFrame(this.type, this.length, body);
      }
    }
  }
}

/** Reads a NUL-terminated string at `offset`; returns it and the offset after the NUL. */
function cstring(buf: Buffer, offset: number): [string, number] {
  let end = buf.indexOf(0, offset);
  if (end < 0) end = buf.length;
  return [buf.toString('utf8', offset, end), end + 1];
}

type Connection = {
  client: Socket;
  upstream: Socket;
  /** Query + Sync messages sent minus ReadyForQuery messages received after startup */
  pending: number;
  /** true once the server's first ReadyForQuery (end of startup) has been seen */
  ready: boolean;
};

const CHAR = (c: string) => c.charCodeAt(0);
const T_QUERY = CHAR('Q');
const T_PARSE = CHAR('P');
const T_BIND = CHAR('B');
const T_EXECUTE = CHAR('E');
const T_SYNC = CHAR('S');
const T_CLOSE = CHAR('C');
const T_DATA_ROW = CHAR('D');
const T_READY = CHAR('Z');

/**
 * Starts the proxy in front of `targetUrl` (a postgres:// URL; `?host=/socket/dir` is honoured).
 * @throws Error when the proxy cannot listen.
 */
export async function startWireCounter(targetUrl: string): Promise<WireCounter> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || target.searchParams.get('port') || 5432);
  const socketDir = target.searchParams.get('host');
  const targetHost = (target.hostname || 'localhost').replace(/^\[(.*)\]$/, '$1');
  const connectUpstream = (): Socket =>
    socketDir?.startsWith('/')
      ? netConnect({ path: `${socketDir}/.s.PGSQL.${targetPort}` })
      : netConnect({ host: targetHost, port: targetPort });

  let statements: WireStatement[] = [];
  let rows = 0;
  let rowBytes = 0;
  let lastActivity = 0;
  const connections = new Set<Connection>();
  const sockets = new Set<Socket>();

  const record = (statement: WireStatement) => {
    statements.push(statement);
    lastActivity = performance.now();
  };

  const server: Server = createServer((client) => {
    const upstream = connectUpstream();
    const conn: Connection = { client, upstream, pending: 0, ready: false };
    connections.add(conn);
    sockets.add(client);
    sockets.add(upstream);
    let closed = false;
    const teardown = () => {
      if (closed) return;
      closed = true;
      connections.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    // Any error on either side (or in our parsing) ends the pair; nothing is thrown out of a handler.
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', () => {
      sockets.delete(client);
      connections.delete(conn);
      upstream.end();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      connections.delete(conn);
      client.end();
    });
    upstream.on('end', () => client.end());
    client.on('end', () => upstream.end());

    // Statement and portal bookkeeping of this connection ('' = unnamed).
    const preparedSql = new Map<string, string>();
    const portalSql = new Map<string, string>();
    const clientFrames = new FrameReader(
      (type) => type === T_QUERY || type === T_PARSE || type === T_BIND || type === T_EXECUTE || type === T_CLOSE,
      (type, _length, body) => {
        if (type === T_QUERY && body) {
          conn.pending++;
          record({ sql: cstring(body, 0)[0], kind: 'simple' });
        } else if (type === T_PARSE && body) {
          const [name, next] = cstring(body, 0);
          preparedSql.set(name, cstring(body, next)[0]);
        } else if (type === T_BIND && body) {
          const [portal, next] = cstring(body, 0);
          const [statement] = cstring(body, next);
          portalSql.set(portal, preparedSql.get(statement) ?? '');
        } else if (type === T_EXECUTE && body) {
          const [portal] = cstring(body, 0);
          record({ sql: portalSql.get(portal) ?? '', kind: 'extended' });
        } else if (type === T_SYNC) {
          conn.pending++;
        } else if (type === T_CLOSE && body && body.length > 0) {
          const [name] = cstring(body, 1);
          (body[0] === CHAR('S') ? preparedSql : portalSql).delete(name);
        }
      },
    );
    const serverFrames = new FrameReader(
      () => false,
      (type, length) => {
        if (type === T_DATA_ROW) {
          rows++;
          rowBytes += length - 4;
        } else if (type === T_READY) {
          lastActivity = performance.now();
          if (!conn.ready) conn.ready = true;
          else if (conn.pending > 0) conn.pending--;
        }
      },
    );

    // Client → server. The startup phase has untyped messages (int32 length + int32 code); buffer them whole.
    let startup: Buffer | null = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      try {
        if (startup) {
          startup = Buffer.concat([startup, chunk]);
          while (startup && startup.length >= 8) {
            const length = startup.readInt32BE(0);
            if (length < 8 || length > MAX_STARTUP_LENGTH) throw new Error(`invalid startup length ${length}`);
            if (startup.length < length) return;
            const code = startup.readInt32BE(4);
            const rest: Buffer = startup.subarray(length);
            if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
              client.write('N'); // no TLS/GSS through the proxy; the client retries in plain text
              startup = rest;
              continue;
            }
            // StartupMessage or CancelRequest: forward it; after a StartupMessage frames are typed.
            upstream.write(startup.subarray(0, length));
            startup = null;
            if (code !== CANCEL_REQUEST && rest.length > 0) {
              clientFrames.push(rest);
              if (!upstream.write(rest)) client.pause();
            }
          }
          return;
        }
        clientFrames.push(chunk);
        if (!upstream.write(chunk)) client.pause();
      } catch {
        teardown();
      }
    });
    upstream.on('drain', () => client.resume());

    upstream.on('data', (chunk: Buffer) => {
      try {
        serverFrames.push(chunk);
        if (!client.write(chunk)) upstream.pause();
      } catch {
        teardown();
      }
    });
    client.on('drain', () => upstream.resume());
  });
  server.on('error', () => {}); // listen errors surface through the listen promise below

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('wire counter: no listening address');

  const proxyUrl = new URL(targetUrl);
  proxyUrl.hostname = '127.0.0.1';
  proxyUrl.port = String(address.port);
  proxyUrl.searchParams.delete('host');
  proxyUrl.searchParams.delete('hostaddr');
  proxyUrl.searchParams.delete('port');

  const inFlight = () => {
    let total = 0;
    for (const conn of connections) total += conn.pending;
    return total;
  };

  let closing: Promise<void> | undefined;
  return {
    url: proxyUrl.toString(),
    get statements() {
      return statements.map((s) => ({ ...s }));
    },
    get rows() {
      return rows;
    },
    get rowBytes() {
      return rowBytes;
    },
    reset() {
      statements = [];
      rows = 0;
      rowBytes = 0;
    },
    settle(quietMs = 20, timeoutMs = 30_000) {
      const started = performance.now();
      return new Promise<void>((ok, fail) => {
        const check = () => {
          const now = performance.now();
          if (inFlight() === 0 && now - lastActivity >= quietMs) return ok();
          if (now - started > timeoutMs) {
            return fail(new Error(`wire counter did not settle within ${timeoutMs} ms (${inFlight()} in flight)`));
          }
          setTimeout(check, Math.max(1, Math.min(5, quietMs)));
        };
        check();
      });
    },
    close() {
      closing ??= new Promise<void>((ok) => {
        server.close(() => ok());
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        connections.clear();
      });
      return closing;
    },
  };
}
