// Test helper: the behaviour every BlobStore must have, run against each adapter with a real backend.
import { expect, it } from 'vitest';
import { cidOf } from './cid.ts';
import type { BlobStore } from './types.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

export function blobStoreContract(open: () => Promise<BlobStore>): void {
  it('stores under the CID, reads back verified, is idempotent, deletes', async () => {
    const store = await open();
    const cid = await store.put(bytes('ciphertext one'));
    expect(cid).toBe(cidOf(bytes('ciphertext one')));
    expect(await store.put(bytes('ciphertext one'))).toBe(cid);
    expect(new TextDecoder().decode(await store.get(cid))).toBe('ciphertext one');
    expect(await store.has(cid)).toBe(true);
    await store.delete(cid);
    await store.delete(cid);
    expect(await store.has(cid)).toBe(false);
    await expect(store.get(cid)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
  });

  it('keeps binary blobs byte for byte (1 MiB of every byte value)', async () => {
    const store = await open();
    const blob = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) % 256);
    const cid = await store.put(blob);
    expect(Buffer.from(await store.get(cid)).equals(Buffer.from(blob))).toBe(true);
  });

  it('stores many at once: CIDs in order, duplicates once, every blob readable', async () => {
    const store = await open();
    const many = Array.from({ length: 40 }, (_, i) => bytes(`batch blob ${i % 30}`));
    const cids = await store.putMany(many);
    expect(cids).toEqual(many.map((b) => cidOf(b)));
    for (const [i, cid] of cids.entries()) expect(new TextDecoder().decode(await store.get(cid))).toBe(`batch blob ${i % 30}`);
    expect(await store.putMany([])).toEqual([]);
  });

  it('refuses a malformed CID before touching the backend', async () => {
    const store = await open();
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({ code: 'BLOB_BAD_CID' });
    await expect(store.has('not-a-cid')).rejects.toMatchObject({ code: 'BLOB_BAD_CID' });
  });
}
