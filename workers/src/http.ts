/**
 * What the workers' small JSON HTTP servers (release gateways, credential issuer, relayer) share:
 * reading a bounded JSON body, and listening on a loopback port.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JsonBodyAnswers {
  /** The body is (or declares itself) larger than the limit; the rest of it is discarded. */
  tooLarge(): void;
  /** The body is not JSON. */
  notJson(): void;
}

/** Reads a request's JSON body of at most `maxBytes`, then hands it to `onBody`, or answers why not. */
export function readJsonBody(req: IncomingMessage, maxBytes: number, answers: JsonBodyAnswers, onBody: (body: unknown) => void): void {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
    req.resume();
    return answers.tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > maxBytes) {
      answers.tooLarge();
      req.destroy();
    } else chunks.push(c);
  });
  req.on('end', () => {
    if (size > maxBytes) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answers.notJson();
    }
    onBody(body);
  });
}

export interface Listening {
  url: string;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (0: any free port) and resolves with the URL. `dropIdleOnClose` also closes
 * idle keep-alive connections on close, for servers whose clients do not hold connections open.
 */
export function listen(server: Server, port: number, host: string, { dropIdleOnClose = false } = {}): Promise<Listening> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${bound}`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            if (dropIdleOnClose) server.closeIdleConnections();
          }),
      });
    });
  });
}
