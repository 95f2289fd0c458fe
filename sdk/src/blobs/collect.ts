import { cidOf } from './cid.ts';
import { BlobNotFoundError, type BlobStore } from './types.ts';

/**
 * A blob store that only collects (browser-safe): put() names a blob by its CID and keeps it, so a
 * caller can prepare many records first and then store all their ciphertexts in one batch
 * (`putMany`), or upload them. Reads see only what was collected.
 */
export interface CollectingStore extends BlobStore {
  /** The collected blobs, in put order (each CID once), and forgets them. */
  drain(): Array<{ cid: string; bytes: Uint8Array }>;
}

export function createCollectingStore(): CollectingStore {
  let held = new Map<string, Uint8Array>();
  const store: CollectingStore = {
    kind: 'memory',
    async put(bytes) {
      const cid = cidOf(bytes);
      held.set(cid, bytes);
      return cid;
    },
    async putMany(blobs) {
      return Promise.all(blobs.map((b) => store.put(b)));
    },
    async get(cid) {
      const bytes = held.get(cid);
      if (!bytes) throw new BlobNotFoundError(cid);
      return bytes;
    },
    async has(cid) {
      return held.has(cid);
    },
    async delete(cid) {
      held.delete(cid);
    },
    drain() {
      const out = [...held].map(([cid, bytes]) => ({ cid, bytes }));
      held = new Map();
      return out;
    },
  };
  return store;
}
