#!/usr/bin/env node
// The production server of the built web app: node:http in front of the Remix request handler,
// plus the static files of build/client. Binds HOST (default 127.0.0.1) on PORT, else WEB_PORT,
// else 3000. Plain JavaScript so that `npm start -w @consentry/web` needs no TypeScript loader.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createReadableStreamFromReadable, createRequestHandler, writeReadableStreamToWritable } from '@remix-run/node';

const webDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(webDir, '..');
const serverBuild = join(webDir, 'build', 'server', 'index.js');
const clientDir = join(webDir, 'build', 'client');

// The sdk is bundled into the server build, so its own idea of the repository root
// (from import.meta.url) would point into web/build. Give it the real places instead.
process.env.DEPLOYMENTS_DIR ||= join(repoRoot, 'deployments');
process.env.DATA_DIR ||= join(repoRoot, '.consentry');

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || process.env.WEB_PORT || 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`web: PORT/WEB_PORT must be a port number, got "${process.env.PORT || process.env.WEB_PORT}"`);
  process.exit(1);
}
if (!existsSync(serverBuild)) {
  console.error('web: no build found; run `npm run build -w @consentry/web` first');
  process.exit(1);
}

const build = await import(pathToFileURL(serverBuild).href);
const handleRequest = createRequestHandler(build, 'production');

const CONTENT_TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Serves a file from build/client if the path names one; returns whether it did. */
function serveStatic(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return false;
  }
  const file = normalize(join(clientDir, pathname));
  if (!file.startsWith(clientDir + sep)) return false;
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return false;
  }
  if (!stat.isFile()) return false;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': stat.size,
    // Vite fingerprints everything under /assets; other files may change between builds.
    'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}

/** node:http request → Fetch API Request. */
function toRequest(req, res) {
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? `${host}:${port}`}`);
  const init = { method: req.method, headers, signal: controller.signal };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    init.body = createReadableStreamFromReadable(req);
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/** Fetch API Response → node:http response. */
async function sendResponse(res, response) {
  const headers = { ...SECURITY_HEADERS };
  for (const [name, value] of response.headers) if (name !== 'set-cookie') headers[name] = value;
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  if (response.statusText) res.writeHead(response.status, response.statusText, headers);
  else res.writeHead(response.status, headers);
  if (response.body) await writeReadableStreamToWritable(response.body, res);
  else res.end();
}

const server = createServer(async (req, res) => {
  try {
    if (serveStatic(req, res)) return;
    await sendResponse(res, await handleRequest(toRequest(req, res)));
  } catch (err) {
    // Only the error's class and message: requests may carry addresses, never log bodies.
    console.error(`web: ${req.method} request failed: ${err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error'}`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Internal error');
  }
});

server.on('error', (err) => {
  if (err.code === 'EADDRINUSE') console.error(`web: port ${port} on ${host} is already in use; choose another with WEB_PORT`);
  else console.error(`web: cannot listen on ${host}:${port}: ${err.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`web: listening on http://${host}:${actual}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
