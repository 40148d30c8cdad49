/**
 * Graceful stop of the HTTP server: stop accepting, answer what is in flight, close keep-alive
 * sockets without cutting a request, then report when no request handler runs any more (the
 * caller closes the pool only then).
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/**
 * How long a socket that has just finished a response stays open once the drain starts: a
 * keep-alive client may already have its next request on the wire, and closing the socket
 * under it is a reset without an answer. That request is served with `Connection: close`.
 */
export const DRAIN_IDLE_GRACE_MS = 1_000;

type SocketState = { active: number; idleSince: number; bytesAtIdle: number };

export type Drainer = {
  /** the server's request listener: `createServer(options, drainer.listener)` */
  listener: RequestListener;
  /** handlers still running (their socket may be gone) */
  readonly running: number;
  /**
   * Stops accepting and drains within `timeoutMs`; resolves once every socket is closed and
   * every handler has returned, or when the bound passes (remaining sockets are then cut).
   * `onTimeout` is told how many sockets and handlers were left.
   */
  drain(timeoutMs: number, onTimeout?: (left: { sockets: number; handlers: number }) => void): Promise<void>;
};

export function createDrainer(server: Server, app: (req: IncomingMessage, res: ServerResponse) => unknown): Drainer {
  const sockets = new Map<Socket, SocketState>();
  const pending = new Set<ServerResponse>();
  let running = 0;
  let draining = false;
  let settled: (() => void) | undefined;
  const check = () => {
    if (draining && running === 0 && sockets.size === 0) settled?.();
  };

  server.on('connection', (socket: Socket) => {
    sockets.set(socket, { active: 0, idleSince: Date.now(), bytesAtIdle: 0 });
    socket.once('close', () => {
      sockets.delete(socket);
      check();
    });
  });

  const listener: RequestListener = (req, res) => {
    const state = sockets.get(req.socket);
    if (state) state.active++;
    // During the drain every answer closes its socket, so a keep-alive client sends nothing more on it.
    if (draining) res.setHeader('connection', 'close');
    pending.add(res);
    res.once('close', () => {
      pending.delete(res);
      if (state) {
        state.active--;
        state.idleSince = Date.now();
        state.bytesAtIdle = req.socket.bytesRead;
      }
    });
    running++;
    Promise.resolve()
      .then(() => app(req, res))
      .catch(() => {})
      .finally(() => {
        running--;
        check();
      });
  };

  /** Closes the sockets with nothing in flight and nothing received since their last answer, idle for `graceMs`. */
  const closeIdle = (graceMs: number) => {
    const now = Date.now();
    for (const [socket, s] of sockets) {
      if (s.active === 0 && now - s.idleSince >= graceMs && socket.bytesRead === s.bytesAtIdle) socket.destroy();
    }
  };

  return {
    listener,
    get running() {
      return running;
    },
    drain(timeoutMs, onTimeout) {
      draining = true;
      for (const res of pending) if (!res.headersSent) res.setHeader('connection', 'close');
      const done = new Promise<void>((resolve) => {
        settled = resolve;
      });
      // net.Server's close stops accepting only. http.Server's would also destroy every idle
      // keep-alive socket at once (racing a request already sent on it) and stop enforcing
      // the header and request timeouts while the drain runs.
      NetServer.prototype.close.call(server);
      const grace = Math.min(DRAIN_IDLE_GRACE_MS, timeoutMs);
      closeIdle(grace);
      const sweep = setInterval(() => closeIdle(grace), Math.max(50, Math.min(250, grace)));
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          onTimeout?.({ sockets: sockets.size, handlers: running });
          server.closeAllConnections();
          for (const socket of sockets.keys()) socket.destroy();
          resolve();
        }, timeoutMs);
      });
      check();
      return Promise.race([done, bound]).finally(() => {
        clearInterval(sweep);
        clearTimeout(timer);
      });
    },
  };
}
