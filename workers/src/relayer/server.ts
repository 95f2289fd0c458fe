/**
 * The relayer's HTTP API on 127.0.0.1 (or HOST): `POST /relay` with `{request}` (a signed
 * ForwardRequest as JSON, see sdk/src/research/forwarder.ts) answers `{hash, status}` once the
 * transaction is mined, or `{error: {code, message}}`; `GET /health` (its address, balance and
 * whether it is funded). Bodies over 64 KiB are refused. Browsers call it directly (the patient's
 * page), hence CORS.
 */
import { createServer, type Server } from 'node:http';
import { listen, readJsonBody } from '../http.ts';
import { BaseError, HttpRequestError, TimeoutError } from 'viem';
import type { Relayer } from './relayer.ts';

/** An enrollment carries a Groth16 proof and a few hashes: a few KiB. */
export const MAX_BODY = 64 * 1024;

export interface RelayerServer {
  url: string;
  close(): Promise<void>;
}

export interface RelayerServerOptions {
  port?: number;
  host?: string;
  /** Told of every answer (status and code only: never a request's content or its signer). */
  onAnswer?: (a: { method: string; path: string; status: number; code?: string; ms: number }) => void;
  /** Told of an unexpected failure (answered 500). */
  onError?: (err: unknown) => void;
}

/** The chain (RPC) did not answer: a 503, not the caller's fault. */
const chainDown = (err: unknown): boolean =>
  err instanceof BaseError && err.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError) !== null;

export function startRelayerServer(relayer: Relayer, opts: RelayerServerOptions = {}): Promise<RelayerServer> {
  const { port = 0, host = '127.0.0.1' } = opts;
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://relayer');
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
      if (chainDown(err)) return send(503, { error: { code: 'CHAIN_UNAVAILABLE', message: 'The relayer cannot reach the chain: try again later' } });
      opts.onError?.(err);
      send(500, { error: { code: 'RELAYER_ERROR', message: 'The relayer could not complete the request' } });
    };
    if (req.method === 'OPTIONS') return send(204, {});
    if (req.method === 'GET' && url.pathname === '/health') {
      relayer.health().then((h) => send(200, h), failed);
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/relay') {
      return send(404, { error: { code: 'NOT_FOUND', message: 'POST /relay or GET /health' } });
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      req.resume();
      return send(415, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the request as application/json' } });
    }
    readJsonBody(
      req,
      MAX_BODY,
      {
        tooLarge: () => send(413, { error: { code: 'TOO_LARGE', message: `A relay request is at most ${MAX_BODY / 1024} KiB` } }),
        notJson: () => send(400, { error: { code: 'BAD_REQUEST', message: 'The body is not JSON' } }),
      },
      (body) => relayer.relay(body).then((reply) => send(reply.status, reply.body), failed),
    );
  });
  return listen(server, port, host, { dropIdleOnClose: true });
}
