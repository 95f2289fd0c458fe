/**
 * The issuer's HTTP API on 127.0.0.1 (or HOST): `GET /issuer` (its public key, leaf, name and
 * whether it is accredited on chain), `POST /credentials` with `{resources, identityCommitment}`
 * (see issuer.ts), `GET /health`. Bodies over 8 MiB are refused; every answer is JSON, errors as
 * `{error: {code, message}}`. Browsers call it directly (the patient's page), hence CORS.
 */
import { createServer, type Server } from 'node:http';
import { listen, readJsonBody } from '../http.ts';
import { IssuerChainError, type Issuer } from './issuer.ts';

/** A patient's records as FHIR JSON: a few MB for thousands of resources. */
export const MAX_BODY = 8 * 1024 * 1024;

export interface IssuerServer {
  url: string;
  close(): Promise<void>;
}

export interface IssuerServerOptions {
  port?: number;
  host?: string;
  /** Told of every answer (status and code only: never a request's content). */
  onAnswer?: (a: { method: string; path: string; status: number; code?: string; ms: number }) => void;
  /** Told of an unexpected failure (answered 500). */
  onError?: (err: unknown) => void;
}

export function startIssuerServer(issuer: Issuer, opts: IssuerServerOptions = {}): Promise<IssuerServer> {
  const { port = 0, host = '127.0.0.1' } = opts;
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://issuer');
    const send = (status: number, body: unknown) => {
      if (res.headersSent) return;
      res.writeHead(status, {
        'content-type': 'application/json',
        'access-control-allow-origin': '*',
        'access-control-allow-headers': 'content-type',
        'cache-control': 'no-store',
      });
      res.end(JSON.stringify(body));
      const code = (body as { error?: { code?: string } } | null)?.error?.code;
      opts.onAnswer?.({ method: req.method ?? '', path: url.pathname, status, ...(code ? { code } : {}), ms: Math.round(performance.now() - started) });
    };
    const failed = (err: unknown) => {
      if (err instanceof IssuerChainError) return send(503, { error: { code: err.code, message: err.message } });
      opts.onError?.(err);
      send(500, { error: { code: 'ISSUER_ERROR', message: 'The issuer could not complete the request' } });
    };
    if (req.method === 'OPTIONS') return send(204, {});
    if (req.method === 'GET' && url.pathname === '/health') return send(200, { leaf: issuer.leaf.toString() });
    if (req.method === 'GET' && url.pathname === '/issuer') {
      issuer.info().then((info) => send(200, info), failed);
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/credentials') {
      return send(404, { error: { code: 'NOT_FOUND', message: 'GET /issuer, POST /credentials or GET /health' } });
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      req.resume();
      return send(415, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the request as application/json' } });
    }
    readJsonBody(
      req,
      MAX_BODY,
      {
        tooLarge: () => send(413, { error: { code: 'TOO_LARGE', message: `A credential request is at most ${MAX_BODY / 1024 / 1024} MiB` } }),
        notJson: () => send(400, { error: { code: 'BAD_REQUEST', message: 'The body is not JSON' } }),
      },
      (body) => issuer.issue(body).then((reply) => send(reply.status, reply.body), failed),
    );
  });
  return listen(server, port, host, { dropIdleOnClose: true });
}
