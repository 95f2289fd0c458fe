import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../config.ts';
import { cidDigest, cidOf, parseBlobCid } from './cid.ts';
import { blobStoreContract } from './contract.ts';
import { createFsBlobStore } from './fs.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'consentry-blobs-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const bytes = (s: string) => new TextEncoder().encode(s);

describe('cidOf', () => {
  it('is CIDv1 raw sha2-256 in base32 (known vector: the empty blob)', () => {
    expect(cidOf(new Uint8Array())).toBe('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
    expect(Buffer.from(cidDigest(cidOf(new Uint8Array()))).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('refuses anything that is not a blob CID (no path tricks)', () => {
    for (const bad of ['../../etc/passwd', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', cidOf(bytes('x')).toUpperCase()]) {
      expect(() => parseBlobCid(bad)).toThrowError(/Not a Consentry blob CID/);
    }
  });
});

describe('createFsBlobStore', () => {
  blobStoreContract(() => createFsBlobStore(tempDir()));

  it('detects a blob altered on disk', async () => {
    const dir = tempDir();
    const store = await createFsBlobStore(dir);
    const cid = await store.put(bytes('ciphertext two'));
    const path = join(dir, cid.slice(-2), cid);
    const altered = readFileSync(path);
    altered[3] = altered[3]! ^ 1;
    writeFileSync(path, altered);
    await expect(store.get(cid)).rejects.toMatchObject({ code: 'BLOB_INTEGRITY', message: expect.stringContaining(cid) });
  });

  it('a writer killed with SIGKILL mid-write never leaves a partial blob under a CID', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'sdk/src/blobs/crash-writer.ts'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 700));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const store = await createFsBlobStore(dir); // re-open: cleans temporary files
    expect(readdirSync(join(dir, '.tmp'))).toEqual([]);
    const cids = readdirSync(dir)
      .filter((d) => d !== '.tmp')
      .flatMap((shard) => readdirSync(join(dir, shard)));
    expect(cids.length).toBeGreaterThan(0);
    for (const cid of cids) expect(cidOf(await store.get(cid))).toBe(cid);
  });

  it('a half-written temporary file (what a crash leaves) is removed at open and never readable', async () => {
    const dir = tempDir();
    await createFsBlobStore(dir);
    const whole = bytes('a whole ciphertext that was being written');
    const cid = cidOf(whole);
    // The writer is a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dir, '.tmp', `${cid}.${gone}.abcdef`), whole.subarray(0, 10));
    const store = await createFsBlobStore(dir);
    expect(readdirSync(join(dir, '.tmp'))).toEqual([]);
    expect(await store.has(cid)).toBe(false);
    expect(await store.put(whole)).toBe(cid);
    expect(await store.get(cid)).toEqual(whole);
  });

  it('a temporary file whose writer still runs (another process sharing the store) is left alone at open', async () => {
    const dir = tempDir();
    await createFsBlobStore(dir);
    const whole = bytes('a ciphertext another process is writing right now');
    const name = `${cidOf(whole)}.${process.pid}.abcdef`;
    writeFileSync(join(dir, '.tmp', name), whole.subarray(0, 10));
    await createFsBlobStore(dir);
    expect(readdirSync(join(dir, '.tmp'))).toEqual([name]);
  });
});
