/**
 * The eligibility prover in a Web Worker: snarkjs (through the sdk's proveEligibility) runs here, so
 * the page stays responsive for the seconds a proof takes, and snarkjs lives only in this chunk.
 *
 * The proving files are fetched once: kept in this worker's memory for the next proof, and in the
 * Cache API under their versioned URLs (`/zk/<file>?v=<hash>`) for the next visit; an entry for an
 * older version of a file is deleted when a new one is stored. Progress goes to the page at each
 * stage, with the time since the request; failures go back in words.
 */
import { ConsentryError } from '@consentry/sdk/errors';
import { proveEligibility } from '@consentry/sdk/zk/prove';
import { bundleToWire, type ArtifactRef, type FromWorker, type ProofProgress, type ToWorker } from './zk.protocol.ts';

// The worker's global scope, typed by hand: the project's DOM lib types `self` as a Window, and the
// webworker lib cannot be loaded beside it.
const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<ToWorker>) => void): void;
  location: { href: string };
};

const CACHE_NAME = 'consentry-zk-v1';
const inMemory = new Map<string, Promise<Uint8Array>>();

const post = (message: FromWorker) => scope.postMessage(message);

/** The Cache API where it exists (secure contexts: https and 127.0.0.1/localhost). */
async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(CACHE_NAME);
  } catch {
    return null; // private modes may refuse storage: the memory copy still serves this visit
  }
}

async function download(ref: ArtifactRef, onBytes: (n: number) => void): Promise<Uint8Array> {
  const res = await fetch(ref.url);
  if (!res.ok) {
    const words = (await res.text().catch(() => '')).slice(0, 300);
    throw new ConsentryError('ZK_ARTIFACTS_UNAVAILABLE', words && res.status === 503 ? words : `The proving file ${ref.url.split('?')[0]} could not be loaded (HTTP ${res.status})`);
  }
  const total = Number(res.headers.get('content-length')) || ref.bytes;
  const out = new Uint8Array(total);
  let at = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.length > out.length) throw new ConsentryError('ZK_ARTIFACTS_UNAVAILABLE', `The proving file ${ref.url.split('?')[0]} is larger than announced`);
    out.set(value, at);
    at += value.length;
    onBytes(value.length);
  }
  if (at !== out.length) throw new ConsentryError('ZK_ARTIFACTS_UNAVAILABLE', `The proving file ${ref.url.split('?')[0]} arrived incomplete (${at} of ${out.length} bytes)`);
  return out;
}

/** One file: from memory, else the Cache API, else the network (then cached). */
async function load(ref: ArtifactRef, onBytes: (n: number) => void, source: { cache: number; network: number }): Promise<Uint8Array> {
  const cache = await openCache();
  const hit = await cache?.match(ref.url);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    source.cache++;
    onBytes(bytes.length);
    return bytes;
  }
  const bytes = await download(ref, onBytes);
  source.network++;
  if (cache) {
    const path = new URL(ref.url, scope.location.href).pathname;
    for (const old of await cache.keys()) if (new URL(old.url).pathname === path && old.url !== new URL(ref.url, scope.location.href).href) await cache.delete(old);
    await cache.put(ref.url, new Response(bytes.buffer as ArrayBuffer, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) } })).catch(() => undefined); // a full disk only costs the next visit a download
  }
  return bytes;
}

function loadOnce(ref: ArtifactRef, onBytes: (n: number) => void, source: { cache: number; network: number }): Promise<Uint8Array> {
  let p = inMemory.get(ref.url);
  if (!p) {
    p = load(ref, onBytes, source);
    p.catch(() => inMemory.delete(ref.url));
    inMemory.set(ref.url, p);
  }
  return p;
}

function describeFailure(err: unknown): { code: string; message: string } {
  if (err instanceof ConsentryError) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  // circom's witness calculator says "Assert Failed" when an input breaks a constraint.
  if (/assert failed|constraint doesn't match|error in template/i.test(message)) {
    return { code: 'ZK_WITNESS_FAILED', message: 'The credential does not satisfy this study\'s criteria (the proof could not be made)' };
  }
  if (/out of memory|allocation failed|RangeError: Array buffer/i.test(message)) {
    return { code: 'ZK_OUT_OF_MEMORY', message: 'This device ran out of memory while proving; close other tabs and try again' };
  }
  return { code: 'ZK_PROOF_FAILED', message: `The proof failed: ${message.split('\n')[0]!.slice(0, 200)}` };
}

async function prove({ id, request, artifacts }: ToWorker): Promise<void> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const progress = (p: Omit<ProofProgress, 'elapsedMs'>) => post({ type: 'progress', id, progress: { ...p, elapsedMs: elapsed() } });
  try {
    const warm = inMemory.has(artifacts.wasm.url) && inMemory.has(artifacts.zkey.url);
    const totalBytes = artifacts.wasm.bytes + artifacts.zkey.bytes;
    let loadedBytes = 0;
    let lastReport = 0;
    const source = { cache: 0, network: 0 };
    progress({ stage: 'artifacts', loadedBytes: 0, totalBytes });
    const onBytes = (n: number) => {
      loadedBytes += n;
      // At most ~10 reports a second: each one re-renders the page.
      if (performance.now() - lastReport > 100) {
        lastReport = performance.now();
        progress({ stage: 'artifacts', loadedBytes, totalBytes });
      }
    };
    const [wasm, zkey] = await Promise.all([loadOnce(artifacts.wasm, onBytes, source), loadOnce(artifacts.zkey, onBytes, source)]);
    const artifactsMs = elapsed();
    progress({ stage: 'artifacts', loadedBytes: totalBytes, totalBytes, cached: source.network === 0 });

    progress({ stage: 'witness' });
    const proveStarted = performance.now();
    const bundle = await proveEligibility({
      credential: request.credential,
      secret: BigInt(request.secret),
      criteria: request.criteria,
      studyId: BigInt(request.studyId),
      recipient: request.recipient,
      issuerLeaves: request.issuerLeaves.map(BigInt),
      time: request.time,
      // snarkjs reads the buffers; copies keep the cached ones intact.
      artifacts: { wasm: wasm.slice(), zkey: zkey.slice() },
      onProgress: (stage: string) => {
        if (stage === 'proving' || stage === 'witness') progress({ stage });
      },
    });
    const proveMs = Math.round(performance.now() - proveStarted);
    progress({ stage: 'done' });
    post({
      type: 'proved',
      id,
      bundle: bundleToWire(bundle),
      timings: { artifactsMs, proveMs, totalMs: elapsed(), source: warm ? 'memory' : source.network > 0 ? 'network' : 'cache' },
    });
  } catch (err) {
    post({ type: 'failed', id, ...describeFailure(err) });
  }
}

// One proof at a time: two would fight over the same cores and memory.
let queue: Promise<void> = Promise.resolve();
scope.addEventListener('message', (e) => {
  if (e.data?.type !== 'prove') return;
  queue = queue.then(() => prove(e.data));
});
