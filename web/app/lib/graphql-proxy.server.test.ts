import { describe, expect, it } from 'vitest';
import { freePort } from '@consentry/sdk/net';
import { MAX_BODY_BYTES, proxyGraphql } from './graphql-proxy.server.ts';

const post = (body: string) =>
  new Request('http://127.0.0.1/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

async function errorsOf(res: Response): Promise<string[]> {
  const body = (await res.json()) as { errors: Array<{ message: string }> };
  return body.errors.map((e) => e.message);
}

// Forwarding to the real indexer is exercised by the browser journey (e2e/signup.e2e.ts);
// here: what the proxy refuses, and what it says when the index is down.
describe('proxyGraphql', () => {
  it('accepts only POST', async () => {
    const res = await proxyGraphql(new Request('http://127.0.0.1/graphql?query={x}'), 'http://127.0.0.1:9/graphql');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await errorsOf(res)).toEqual(['Send GraphQL queries with POST']);
  });

  it('refuses bodies that are not a GraphQL request, or too large', async () => {
    for (const body of ['not json', '{}', '{"query": 5}', '{"query": "{ a }", "variables": [1]}']) {
      const res = await proxyGraphql(post(body), 'http://127.0.0.1:9/graphql');
      expect(res.status, body).toBe(400);
    }
    const big = await proxyGraphql(post(JSON.stringify({ query: `{ a }${' '.repeat(MAX_BODY_BYTES)}` })), 'http://127.0.0.1:9/graphql');
    expect(big.status).toBe(413);
  });

  it('answers 502 in GraphQL error shape, without naming the index, when the index is down', async () => {
    const upstream = `http://127.0.0.1:${await freePort()}/graphql`;
    const res = await proxyGraphql(post(JSON.stringify({ query: '{ _meta { block { number } } }' })), upstream);
    expect(res.status).toBe(502);
    const errors = await errorsOf(res);
    expect(errors).toEqual(['The index is not answering']);
    expect(errors.join()).not.toContain('127.0.0.1');
  });
});
