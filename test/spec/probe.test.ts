import { afterAll, beforeAll, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
let t: TestApp;
beforeAll(async () => { t = await createTestApp(); });
afterAll(async () => { await t?.close(); });
const post = async (body: unknown, accept = 'application/graphql-response+json') => {
  const r = await t.app.fetch('http://x/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });
  return `${r.status} ${await r.text()}`.slice(0, 300);
};
it('probe', async () => {
  const q = 'query Q($f: Int!) { restaurants(first: $f) { totalCount } }';
  for (let i = 0; i < 3; i++) console.log('coerce', i, await post({ query: q, variables: { f: 'x' } }));
  for (let i = 0; i < 3; i++) console.log('missing', i, await post({ query: q, variables: {} }));
  console.log('q1', await post({ query: 1 }));
  console.log('first0', await post({ query: '{ restaurants(first: 0) { totalCount edges { node { id } } } }' }, 'application/json'));
  const big = `{ ${Array.from({ length: 1100 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
  console.log('tokens json', await post({ query: big }, 'application/json'));
  console.log('tokens gr', await post({ query: big }));
});
