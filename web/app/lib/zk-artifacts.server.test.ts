import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactManifest, artifactResponse, NOT_BUILT_MESSAGE } from './zk-artifacts.server.ts';

const dir = mkdtempSync(join(tmpdir(), 'consentry-zk-artifacts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const empty = join(dir, 'empty');
const built = join(dir, 'build');
mkdirSync(join(built, 'eligibility_js'), { recursive: true });
mkdirSync(empty);

const zkey = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
writeFileSync(join(built, 'eligibility_js', 'eligibility.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
writeFileSync(join(built, 'eligibility.zkey'), zkey);
writeFileSync(join(built, 'verification_key.json'), '{"protocol":"groth16"}');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const get = (path: string, headers: Record<string, string> = {}) => new Request(`http://127.0.0.1/zk/${path}`, { headers });

describe('the proving files route', () => {
  it('says in words, with 503, that the files are not built', async () => {
    const res = await artifactResponse(get('eligibility.zkey'), 'eligibility.zkey', empty);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe(`${NOT_BUILT_MESSAGE} (eligibility.zkey is missing)`);
    expect(await artifactManifest(empty)).toEqual({ ready: false, problem: 'The proving files are not built on this server: run npm run circuits:setup' });
  });

  it('serves each file whole with its hash as ETag; the versioned URL is immutable, the bare one revalidates', async () => {
    const manifest = await artifactManifest(built);
    if (!manifest.ready) throw new Error(manifest.problem);
    expect(manifest.zkey).toEqual({ url: `/zk/eligibility.zkey?v=${sha(zkey).slice(0, 16)}`, bytes: zkey.length });
    const versioned = await artifactResponse(get(manifest.zkey.url.slice(4)), 'eligibility.zkey', built);
    expect(versioned.status).toBe(200);
    expect(versioned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(versioned.headers.get('etag')).toBe(`"${sha(zkey)}"`);
    expect(versioned.headers.get('content-length')).toBe(String(zkey.length));
    expect(new Uint8Array(await versioned.arrayBuffer())).toEqual(zkey);

    const bare = await artifactResponse(get('eligibility.zkey'), 'eligibility.zkey', built);
    expect(bare.headers.get('cache-control')).toBe('public, no-cache');
    await bare.body?.cancel();
    const stale = await artifactResponse(get('eligibility.zkey?v=0000000000000000'), 'eligibility.zkey', built);
    expect(stale.headers.get('cache-control')).toBe('public, no-cache');
    await stale.body?.cancel();

    const wasm = await artifactResponse(get('eligibility.wasm'), 'eligibility.wasm', built);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect((await wasm.arrayBuffer()).byteLength).toBe(8);
  });

  it('answers 304 to a matching ETag, and a new hash once the file changes', async () => {
    const etag = `"${sha(zkey)}"`;
    const same = await artifactResponse(get('eligibility.zkey', { 'if-none-match': etag }), 'eligibility.zkey', built);
    expect(same.status).toBe(304);
    expect(same.body).toBeNull();
    const changed = new Uint8Array(zkey);
    changed[0] = 0xff;
    writeFileSync(join(built, 'eligibility.zkey'), changed);
    utimesSync(join(built, 'eligibility.zkey'), new Date(), new Date(Date.now() + 5000)); // a new mtime even on coarse clocks
    const after = await artifactResponse(get('eligibility.zkey', { 'if-none-match': etag }), 'eligibility.zkey', built);
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).toBe(`"${sha(changed)}"`);
    await after.body?.cancel();
  });

  it('refuses any other name (no path tricks)', async () => {
    for (const name of ['../package.json', 'eligibility.r1cs', 'pot.ptau']) {
      const res = await artifactResponse(get(encodeURIComponent(name)), name, built);
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/^No proving file named/);
    }
  });
});
