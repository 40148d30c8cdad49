/**
 * The envelop floor: Yoga's floor (bench/yoga-floor-server.ts) without graphql-yoga. The same schema
 * (bench/floor-schema.ts) and graphql-jit through envelop, answering a JSON POST straight from node:http:
 * the body read, its document parsed and validated once (then cached by text), executed, and the result
 * written with JSON.stringify. Nothing of the Fetch API (no Request, Response or Headers objects), no
 * content negotiation, GET, batching or multipart. Beside Yoga's floor it says what Yoga's own layer
 * costs a request, the part a server below Yoga's hooks could save (docs/BENCHMARKS.md).
 *
 * `node dist-bench/bench/envelop-floor-server.js` with BENCH_DB_URL (compiled and started by bench/common.ts);
 * listens on a free port of 127.0.0.1, prints `READY <port>`, stops as the other peers
 * (bench/peer-server.ts). No authentication: `me` is the user of the `x-bench-user` header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { envelop, useEngine, useSchema } from '@envelop/core';
import { useGraphQlJit } from '@envelop/graphql-jit';
import * as graphql from 'graphql';
import { type DocumentNode, GraphQLError } from 'graphql';
import { floorSchema } from './floor-schema.ts';
import { servePeer } from './peer-server.ts';

const url = process.env.BENCH_DB_URL;
if (!url) {
  console.error('usage: BENCH_DB_URL=… node dist-bench/bench/envelop-floor-server.js');
  process.exit(2);
}
const { schema, close } = floorSchema(url);
const getEnveloped = envelop({ plugins: [useEngine(graphql), useSchema(schema), useGraphQlJit()] });

/** Valid documents by their text: the bench asks a handful; the first MAX_DOCUMENTS are kept. */
const MAX_DOCUMENTS = 100;
const documents = new Map<string, DocumentNode>();

const send = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
};

async function answer(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const { query, variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    query: string;
    variables?: Record<string, unknown>;
  };
  const run = getEnveloped({ benchUser: req.headers['x-bench-user'] ?? null });
  let document = documents.get(query);
  if (!document) {
    const parsed: DocumentNode = run.parse(query);
    const errors = run.validate(run.schema, parsed);
    if (errors.length > 0) return send(res, 400, { errors });
    if (documents.size < MAX_DOCUMENTS) documents.set(query, parsed);
    document = parsed;
  }
  const contextValue = await run.contextFactory();
  send(res, 200, await run.execute({ schema: run.schema, document, variableValues: variables, contextValue }));
}

servePeer(
  (req, res) =>
    answer(req, res).catch((error: unknown) =>
      send(res, 400, { errors: [new GraphQLError(error instanceof Error ? error.message : String(error))] }),
    ),
  close,
);
