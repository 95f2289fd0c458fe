import { ConsentryError } from './errors.ts';

export class GraphQLRequestError extends ConsentryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GRAPHQL_FAILED', message, options);
    this.name = 'GraphQLRequestError';
  }
}

/**
 * One query against the index: the embedded indexer or The Graph (same schema, same queries).
 * @throws GraphQLRequestError when the endpoint is unreachable or answers with errors.
 */
export async function graphqlRequest<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  { timeoutMs = 10_000, fetchImpl = fetch }: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new GraphQLRequestError(`Cannot reach the index at ${url}`, { cause });
  }
  let body: { data?: T; errors?: Array<{ message: string }> };
  try {
    body = (await res.json()) as typeof body;
  } catch (cause) {
    throw new GraphQLRequestError(`The index at ${url} answered ${res.status} without JSON`, { cause });
  }
  if (body.errors?.length) {
    throw new GraphQLRequestError(`The index rejected the query: ${body.errors.map((e) => e.message).join('; ')}`);
  }
  if (!res.ok || body.data === undefined) {
    throw new GraphQLRequestError(`The index at ${url} answered ${res.status}`);
  }
  return body.data;
}
