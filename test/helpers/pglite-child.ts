/**
 * PGlite (PostgreSQL compiled to WASM) with pgvector and pg_trgm, served over the
 * PostgreSQL wire protocol by @electric-sql/pglite-socket. Run as its own process
 * (PGlite blocks its host's event loop while it works), normally by startPglite()
 * in ./pglite-server.ts:
 *
 *   node --import tsx test/helpers/pglite-child.ts [--port 0] [--data-dir DIR] [--max-connections 16]
 *
 * Prints one line `READY <port>` on stdout once clients can connect. Exits on
 * SIGTERM/SIGINT, and when its stdin closes (the parent died), so it never
 * outlives the test run. Without --data-dir the database lives in memory.
 *
 * The socket server multiplexes every client connection onto PGlite's one session:
 * session state (SET, advisory locks, prepared statement names) is shared by all
 * clients, and an open transaction holds the other clients' statements back.
 *
 * The socket server (0.2.17) queues single protocol messages and hands PGlite to one
 * client only while a transaction block is open (BEGIN … COMMIT). An extended-protocol
 * exchange (Parse, Bind, Describe, Execute … Sync) is not a transaction block, so when
 * one client opens a transaction while another's exchange is half done, the other's
 * Bind/Execute run against the first client's statements: wrong rows, no rows or
 * `portal "" does not exist`. guardExchanges() closes that gap (--unguarded turns it off,
 * to see the failure).
 */
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'data-dir': { type: 'string' },
    'max-connections': { type: 'string', default: '16' },
    unguarded: { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
const maxConnections = Number(values['max-connections']);
if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`bad --port ${values.port}`);
if (!Number.isInteger(maxConnections) || maxConnections < 1) {
  throw new Error(`bad --max-connections ${values['max-connections']}`);
}

const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);
/** Messages that leave an extended-protocol exchange open until the client's Sync. */
const OPENS_EXCHANGE = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));
/** Messages after which PGlite has answered ReadyForQuery: the exchange is over. */
const ENDS_EXCHANGE = new Set(['S', 'Q', 'F'].map((c) => c.charCodeAt(0)));

/**
 * The PGlite the socket server sees: it reports "in a transaction" also while a client's
 * extended-protocol exchange is open, so the server's queue takes only that client's
 * messages until its Sync, as it does for a transaction block. When the server rolls back
 * a disconnected client (its only use of exec), a Sync first ends any open exchange.
 */
function guardExchanges(real: PGlite): PGlite {
  let open = false;
  const overrides: Partial<PGlite> = {
    isInTransaction: () => open || real.isInTransaction(),
    execProtocolRawStream: async (message, options) => {
      try {
        await real.execProtocolRawStream(message, options);
      } finally {
        const type = message[0] ?? 0;
        if (OPENS_EXCHANGE.has(type)) open = true;
        else if (ENDS_EXCHANGE.has(type)) open = false;
      }
    },
    exec: async (query, options) => {
      if (open) await real.runExclusive(() => real.execProtocolRaw(SYNC));
      open = false;
      return real.exec(query, options);
    },
  };
  return new Proxy(real, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof PGlite];
      const value = Reflect.get(target, property, target);
      // PGlite's methods use private fields: call them on the instance, not on the proxy.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

let db: PGlite | undefined;
let server: PGLiteSocketServer | undefined;
let stopping = false;

async function shutdown(reason: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  // A wedged PGlite must not keep the process alive.
  setTimeout(() => {
    process.stderr.write(`pglite-child: forced exit (${reason})\n`);
    process.exit(code || 1);
  }, 5_000).unref();
  try {
    await server?.stop();
    await db?.close();
  } catch (error) {
    process.stderr.write(`pglite-child: error while stopping (${reason}): ${String(error)}\n`);
    code ||= 1;
  }
  process.exit(code);
}

process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
// The parent holds our stdin open; it closes when the parent exits, however it exits.
process.stdin.on('end', () => void shutdown('stdin closed'));
process.stdin.on('close', () => void shutdown('stdin closed'));
process.stdin.on('error', () => void shutdown('stdin error'));
process.stdin.resume();

try {
  db = await PGlite.create(values['data-dir'] ?? 'memory://', { extensions: { vector, pg_trgm } });
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  server = new PGLiteSocketServer({
    db: values.unguarded ? db : guardExchanges(db),
    host: '127.0.0.1',
    port,
    maxConnections,
  });
  server.addEventListener('error', (event) => {
    process.stderr.write(`pglite-child: socket server error: ${String((event as CustomEvent).detail)}\n`);
  });
  await server.start();
  // getServerConn() is `host:port`, with the port the OS chose when --port was 0.
  const actualPort = Number(server.getServerConn().split(':').at(-1));
  if (!stopping) process.stdout.write(`READY ${actualPort}\n`);
} catch (error) {
  process.stderr.write(`pglite-child: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  await shutdown('start failed', 1);
}
