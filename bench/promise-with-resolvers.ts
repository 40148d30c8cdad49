/**
 * PostGraphile 5 (grafast, @dataplan/pg, grafserv) declares Node ≥ 22 and calls `Promise.withResolvers()`
 * (Node 22+) at run time; on an older Node the call throws inside its executor and every list comes back
 * as an error. This machine may run Node 20: the standard shim, installed only where it is missing.
 * Imported first by bench/postgraphile-server.ts (ES modules evaluate in import order).
 */
type WithResolvers = <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };
const P = Promise as unknown as { withResolvers?: WithResolvers };
P.withResolvers ??= <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
