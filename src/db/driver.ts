/**
 * Wraps slonik 47's pg driver with two things its pool lacks. Neither adds a round trip.
 *
 * 1. Eviction of dead connections. When a connection breaks during a query, the
 *    driver's destroy awaits the failed query, rejects, and never emits `destroy`:
 *    the pool keeps the corpse (state PENDING_DESTROY) forever, counted against
 *    `maximumPoolSize`, and once every slot holds one, every acquire waits forever.
 *    Here a failed destroy still tells the pool the connection is gone, and
 *    `destroy()` never rejects (so `pool.end()` completes).
 * 2. Recycling: a connection older than `maxAgeMs` is destroyed when released,
 *    instead of returning to the pool (slonik has no maximum age).
 */
import type { DriverClient, DriverFactory } from 'slonik';

type Listener = () => void;

function manage(client: DriverClient, maxAgeMs: number): DriverClient {
  const bornAt = Date.now();
  const destroyListeners = new Set<Listener>();
  let gone = false;
  const evict = () => {
    if (gone) return;
    gone = true;
    for (const listener of [...destroyListeners]) listener();
  };
  const destroy = () => client.destroy().then(evict, evict);
  client.on('destroy', evict);
  // The driver's own error handler has started the destroy by now; see how it ends.
  client.on('error', () => void destroy());
  // Registered before the pool's own 'release' listener, so the pool sees a
  // PENDING_DESTROY client and does not hand it to a waiting caller.
  client.on('release', () => {
    if (Date.now() - bornAt >= maxAgeMs && client.state() === 'IDLE') void destroy();
  });
  const on = ((event: string, listener: Listener) => {
    if (event === 'destroy') destroyListeners.add(listener);
    else client.on(event as 'release', listener);
    return wrapped;
  }) as unknown as DriverClient['on'];
  const off = ((event: string, listener: Listener) => {
    if (event === 'destroy') destroyListeners.delete(listener);
    else client.off(event as 'release', listener);
    return wrapped;
  }) as unknown as DriverClient['off'];
  const wrapped: DriverClient = {
    ...client,
    destroy,
    on,
    off,
    removeListener: off,
    state: () => (gone ? 'DESTROYED' : client.state()),
  };
  return wrapped;
}

export function managedDriver(base: DriverFactory, maxAgeMs: number): DriverFactory {
  return async (config) => {
    const driver = await base(config);
    return { ...driver, createClient: async () => manage(await driver.createClient(), maxAgeMs) };
  };
}
