// GraphQL over HTTP on a plain node:http server: POST JSON or GET ?query= on /graphql, CORS for
// browsers, GET /health for the stack. Requests are bounded in size and query depth.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConsentryError } from '@consentry/sdk/errors';
import {
  execute,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type ASTVisitor,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import { pino } from 'pino';
import { z } from 'zod';
import type { IndexerLogger } from '../indexer.ts';

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_DEPTH = 10;

const requestSchema = z.object({
  query: z.string().min(1, 'query must not be empty'),
  variables: z.record(z.string(), z.unknown()).nullish(),
  operationName: z.string().nullish(),
});

export type GraphQLServerOptions = {
  schema: GraphQLSchema;
  /** What GET /health answers (JSON). */
  health: () => Record<string, unknown>;
  host?: string;
  port: number;
  logger?: IndexerLogger;
  maxBodyBytes?: number;
};

export type GraphQLServer = { url: string; port: number; close(): Promise<void> };

class HttpError extends ConsentryError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('HTTP_BAD_REQUEST', message);
    this.status = status;
  }
}

/** Rejects queries nested deeper than `max` selection sets (a bound on the work one request asks). */
export function depthLimit(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map(
      context
        .getDocument()
        .definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d.selectionSet] as const),
    );
    const depth = (set: SelectionSetNode, seen: Set<string>): number => {
      let deepest = 0;
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) deepest = Math.max(deepest, s.selectionSet ? 1 + depth(s.selectionSet, seen) : 1);
        else if (s.kind === Kind.INLINE_FRAGMENT) deepest = Math.max(deepest, depth(s.selectionSet, seen));
        else if (!seen.has(s.name.value)) {
          const fragment = fragments.get(s.name.value);
          if (fragment) deepest = Math.max(deepest, depth(fragment, new Set([...seen, s.name.value])));
        }
      }
      return deepest;
    };
    return {
      OperationDefinition(node) {
        if (depth(node.selectionSet, new Set()) > max) {
          context.reportError(new GraphQLError(`The query is nested more than ${max} levels deep`, { nodes: node }));
        }
      },
    };
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
  });
  res.end(json);
}

const errorBody = (message: string) => ({ errors: [{ message }] });

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new HttpError(413, `The request body is larger than ${limit} bytes`));
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop keeping it; the 413 goes out with `connection: close`.
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `The request body is larger than ${limit} bytes`));
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON');
  }
}

function requestFrom(input: unknown) {
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) {
    throw new HttpError(400, `Bad GraphQL request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export async function startGraphQLServer(options: GraphQLServerOptions): Promise<GraphQLServer> {
  const { schema, health } = options;
  const host = options.host ?? '127.0.0.1';
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const log = options.logger ?? pino({ level: 'silent' });
  const rules = [...specifiedRules, depthLimit(MAX_DEPTH)];

  /** Errors a client may read: GraphQL's own and Consentry's. Anything else is logged, not shown. */
  function format(result: ExecutionResult): { data?: unknown; errors?: GraphQLFormattedError[] } {
    if (!result.errors?.length) return { data: result.data };
    const errors = result.errors.map((e) => {
      const original = e.originalError;
      if (original && !(original instanceof GraphQLError) && !(original instanceof ConsentryError)) {
        log.error({ err: original.message, path: e.path }, 'GraphQL resolver failed');
        return { message: 'Internal error while reading the index', ...(e.path ? { path: e.path } : {}) };
      }
      return e.toJSON();
    });
    return { data: result.data, errors };
  }

  async function graphql(res: ServerResponse, request: z.infer<typeof requestSchema>): Promise<void> {
    let document: DocumentNode;
    try {
      document = parse(request.query, { maxTokens: 5000 });
    } catch (err) {
      if (err instanceof GraphQLError) return send(res, 400, { errors: [err.toJSON()] });
      throw err;
    }
    const invalid = validate(schema, document, rules);
    if (invalid.length) return send(res, 400, { errors: invalid.map((e) => e.toJSON()) });
    const result = await execute({
      schema,
      document,
      variableValues: request.variables ?? undefined,
      operationName: request.operationName ?? undefined,
    });
    // Errors about the request itself (variables, operation) come without data: 400.
    send(res, result.data === undefined ? 400 : 200, format(result));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-allow-headers', 'content-type, accept');
    res.setHeader('access-control-max-age', '600');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (url.pathname === '/health' && req.method === 'GET') return send(res, 200, health());
    if (url.pathname !== '/graphql') return send(res, 404, errorBody(`Not found: ${url.pathname} (GraphQL is at /graphql)`));
    if (req.method === 'GET') {
      const query = url.searchParams.get('query');
      if (!query) return send(res, 400, errorBody('Missing ?query= (or POST a JSON body)'));
      const variables = url.searchParams.get('variables');
      return graphql(
        res,
        requestFrom({
          query,
          variables: variables ? parseJson(variables) : undefined,
          operationName: url.searchParams.get('operationName') ?? undefined,
        }),
      );
    }
    if (req.method === 'POST') {
      const type = req.headers['content-type'] ?? '';
      if (!type.includes('application/json')) {
        throw new HttpError(415, 'POST a JSON body with content-type: application/json');
      }
      return graphql(res, requestFrom(parseJson(await readBody(req, limit))));
    }
    res.setHeader('allow', 'GET, POST, OPTIONS');
    send(res, 405, errorBody(`Method ${req.method} not allowed`));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) {
        res.setHeader('connection', 'close');
        return send(res, err.status, errorBody(err.message));
      }
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'GraphQL request failed');
      send(res, 500, errorBody('Internal error'));
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new ConsentryError('PORT_TAKEN', `Port ${options.port} on ${host} is already in use: choose another with INDEXER_PORT`)
          : err,
      );
    });
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
