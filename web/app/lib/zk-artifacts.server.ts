/**
 * The proving files the browser needs (the circuit's wasm, the proving key, the verification key),
 * served from circuits/build (`npm run circuits:setup` makes them). Each is named by its SHA-256 in
 * the URL the page is given (`/zk/<file>?v=<hash>`), so a browser may keep it forever: a new setup
 * gives a new hash, hence a new URL. The hash is computed once per file version (size + mtime).
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConsentryError } from '@consentry/sdk/errors';
import { serverConfig } from './config.server.ts';

/** What the browser asks for → where `npm run circuits:setup` writes it, under circuits/build. */
export const ARTIFACT_FILES = {
  'eligibility.wasm': { path: join('eligibility_js', 'eligibility.wasm'), type: 'application/wasm' },
  'eligibility.zkey': { path: 'eligibility.zkey', type: 'application/octet-stream' },
  'verification_key.json': { path: 'verification_key.json', type: 'application/json' },
} as const;
export type ArtifactName = keyof typeof ARTIFACT_FILES;
export const isArtifactName = (name: string): name is ArtifactName => Object.hasOwn(ARTIFACT_FILES, name);

export const NOT_BUILT_MESSAGE = 'The proving files are not built on this server: run npm run circuits:setup';

export class ArtifactsNotBuiltError extends ConsentryError {
  constructor(missing: string) {
    super('ZK_ARTIFACTS_MISSING', `${NOT_BUILT_MESSAGE} (${missing} is missing)`);
    this.name = 'ArtifactsNotBuiltError';
  }
}

export interface ArtifactInfo {
  name: ArtifactName;
  file: string;
  type: string;
  size: number;
  /** SHA-256 of the file, hex. */
  sha256: string;
}

const hashes = new Map<string, { key: string; sha256: Promise<string> }>();

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** One artifact's place, size and hash. @throws ArtifactsNotBuiltError when it is not there. */
export async function artifactInfo(name: ArtifactName, buildDir: string = serverConfig().circuitsBuildDir): Promise<ArtifactInfo> {
  const { path, type } = ARTIFACT_FILES[name];
  const file = join(buildDir, path);
  let stat: Stats;
  try {
    stat = statSync(file);
  } catch {
    throw new ArtifactsNotBuiltError(name);
  }
  if (!stat.isFile()) throw new ArtifactsNotBuiltError(name);
  const key = `${stat.size}:${stat.mtimeMs}`;
  let cached = hashes.get(file);
  if (!cached || cached.key !== key) {
    cached = { key, sha256: hashFile(file) };
    cached.sha256.catch(() => hashes.delete(file));
    hashes.set(file, cached);
  }
  return { name, file, type, size: stat.size, sha256: await cached.sha256 };
}

/**
 * The file as a byte stream read on demand (backpressure: a proving key is megabytes, never held
 * whole per request). Opened at the first read, closed at the end or when the client goes away.
 */
function fileStream(file: string): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      handle ??= await open(file, 'r');
      const chunk = new Uint8Array(256 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) {
        await handle.close();
        controller.close();
      } else controller.enqueue(chunk.subarray(0, bytesRead));
    },
    async cancel() {
      await handle?.close();
    },
  });
}

/** What the page gives the prover: each file's versioned URL and size, or why there are none. */
export type ArtifactManifest =
  | { ready: true; wasm: { url: string; bytes: number }; zkey: { url: string; bytes: number }; verificationKey: { url: string; bytes: number } }
  | { ready: false; problem: string };

export async function artifactManifest(buildDir?: string): Promise<ArtifactManifest> {
  try {
    const [wasm, zkey, vkey] = await Promise.all([
      artifactInfo('eligibility.wasm', buildDir),
      artifactInfo('eligibility.zkey', buildDir),
      artifactInfo('verification_key.json', buildDir),
    ]);
    const ref = (a: ArtifactInfo) => ({ url: `/zk/${a.name}?v=${a.sha256.slice(0, 16)}`, bytes: a.size });
    return { ready: true, wasm: ref(wasm), zkey: ref(zkey), verificationKey: ref(vkey) };
  } catch (err) {
    if (err instanceof ArtifactsNotBuiltError) return { ready: false, problem: NOT_BUILT_MESSAGE };
    throw err;
  }
}

/**
 * The HTTP answer for GET /zk/:file. A URL whose `v` is the file's hash is immutable (cached for a
 * year); without it (or with an old one) the browser must revalidate, and the strong ETag (the full
 * hash) answers 304 while nothing changed.
 */
export async function artifactResponse(request: Request, name: string, buildDir?: string): Promise<Response> {
  const text = (status: number, message: string, extra: Record<string, string> = {}) =>
    new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra } });
  if (!isArtifactName(name)) return text(404, `No proving file named ${name.slice(0, 60)}: ask for ${Object.keys(ARTIFACT_FILES).join(', ')}`);
  let info: ArtifactInfo;
  try {
    info = await artifactInfo(name, buildDir);
  } catch (err) {
    if (err instanceof ArtifactsNotBuiltError) return text(503, err.message, { 'retry-after': '60' });
    throw err;
  }
  const etag = `"${info.sha256}"`;
  const version = new URL(request.url).searchParams.get('v');
  const headers: Record<string, string> = {
    etag,
    'content-type': info.type,
    'cache-control': version && info.sha256.startsWith(version) && version.length >= 16 ? 'public, max-age=31536000, immutable' : 'public, no-cache',
  };
  const ifNoneMatch = request.headers.get('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers['content-length'] = String(info.size);
  if (request.method === 'HEAD') return new Response(null, { status: 200, headers });
  return new Response(fileStream(info.file), { status: 200, headers });
}
