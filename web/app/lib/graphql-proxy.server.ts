import { z } from 'zod';

/** Largest GraphQL request the proxy forwards; a patient-status query is well under 1 KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

const requestSchema = z.object({
  query: z.string().min(1).max(20_000),
  variables: z.record(z.string(), z.unknown()).optional(),
  operationName: z.string().max(200).nullish(),
});

const jsonError = (status: number, message: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ errors: [{ message }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });

/**
 * Forwards one GraphQL POST from the browser to the configured index (the embedded indexer or
 * SUBGRAPH_URL), so the browser needs no CORS and never learns where the index lives.
 * The index's answer is passed through as is; failures are answered in GraphQL's error shape.
 */
export async function proxyGraphql(request: Request, upstreamUrl: string, fetchImpl: typeof fetch = fetch): Promise<Response> {
  if (request.method !== 'POST') return jsonError(405, 'Send GraphQL queries with POST', { allow: 'POST' });
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) return jsonError(413, 'The query is too large');
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return jsonError(413, 'The query is too large');

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return jsonError(400, 'Expected a JSON body: { "query": "...", "variables": { ... } }');
  }
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success) return jsonError(400, 'Expected a JSON body: { "query": "...", "variables": { ... } }');

  let upstream: Response;
  try {
    upstream = await fetchImpl(upstreamUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(parsed.data),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return jsonError(502, 'The index is not answering');
  }
  const answer = await upstream.text();
  return new Response(answer, {
    status: upstream.status,
    headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' },
  });
}
