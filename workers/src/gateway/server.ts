/**
 * The gateway's HTTP API on 127.0.0.1 (or HOST): `POST /release` with `{request, signature}` (see
 * sdk/src/access/release.ts), `POST /purchase-release` and `GET /extracts/<hash>` (research
 * purchases: purchase-release.ts), `GET /log?after=<seq>&limit=<n>` (the public release log, paged by
 * seq, for the indexer and the patient's client), `GET /health`. Bodies over 64 KiB are refused;
 * every answer is JSON.
 */
import { createServer, type Server } from 'node:http';
import { listen, readJsonBody } from '../http.ts';
import { z } from 'zod';
import { LOG_PAGE_MAX, type Gateway } from './gateway.ts';

const MAX_BODY = 64 * 1024;

const whole = (name: string) => z.string().regex(/^\d{1,15}$/, `${name} must be a whole number`).transform(Number);
const logQuery = z.object({
  after: whole('after').default(0),
  limit: whole('limit')
    .refine((n) => n >= 1 && n <= LOG_PAGE_MAX, `limit must be from 1 to ${LOG_PAGE_MAX}`)
    .default(500),
});

export interface GatewayServer {
  url: string;
  close(): Promise<void>;
}

export function startGatewayServer(gateway: Gateway, { port = 0, host = '127.0.0.1' }: { port?: number; host?: string } = {}): Promise<GatewayServer> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown, timing?: string) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'access-control-allow-origin': '*',
        'access-control-allow-headers': 'content-type',
        ...(timing ? { 'server-timing': timing } : {}),
      });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'OPTIONS') return send(204, {});
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (req.method === 'GET' && url.pathname === '/health') return send(200, { member: gateway.member });
    if (req.method === 'GET' && url.pathname === '/log') {
      const q = logQuery.safeParse(Object.fromEntries(url.searchParams));
      if (!q.success) {
        const i = q.error.issues[0]!;
        return send(400, { error: { code: 'BAD_REQUEST', message: `Bad log query at ${i.path.join('.') || 'query'}: ${i.message}` } });
      }
      return send(200, gateway.logPage(q.data.after, q.data.limit));
    }
    const extract = /^\/extracts\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && extract && gateway.purchases) {
      gateway.purchases.ciphertext(decodeURIComponent(extract[1]!)).then(
        (reply) => {
          if (reply.status !== 200) return send(reply.status, reply.body);
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=31536000, immutable' });
          res.end(reply.body as Uint8Array);
        },
        (err: unknown) => send(503, { error: { code: 'GATEWAY_ERROR', message: `The gateway could not read the extract: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` } }),
      );
      return;
    }
    const purchase = req.method === 'POST' && url.pathname === '/purchase-release' ? gateway.purchases : undefined;
    if (req.method !== 'POST' || (url.pathname !== '/release' && !purchase)) {
      return send(404, { error: { code: 'NOT_FOUND', message: 'POST /release, POST /purchase-release, GET /extracts/<hash>, GET /log or GET /health' } });
    }
    readJsonBody(
      req,
      MAX_BODY,
      {
        tooLarge: () => send(413, { error: { code: 'TOO_LARGE', message: 'A release request is at most 64 KiB' } }),
        notJson: () => send(400, { error: { code: 'BAD_REQUEST', message: 'The body is not JSON' } }),
      },
      (body) =>
        (purchase ? purchase.release(body) : gateway.release(body)).then(
          (reply) => send(reply.status, reply.body, 'timing' in reply ? reply.timing : undefined),
          (err: unknown) => send(503, { error: { code: 'GATEWAY_ERROR', message: `The gateway could not complete the release: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` } }),
        ),
    );
  });
  // Requesters keep connections open between releases; a long idle timeout avoids the race where the
  // server closes an idle connection just as a client reuses it (a spurious "fetch failed" under load).
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;
  return listen(server, port, host);
}
