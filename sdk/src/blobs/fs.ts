/**
 * NODE-ONLY. The default blob store: files under a directory, one per CID, sharded by the CID's
 * last two characters. Writes go to a temporary file in the store, are fsynced, then renamed into
 * place (atomic on POSIX), and the directory is fsynced: after a crash a CID names either nothing
 * or the complete blob. Leftover temporary files are removed when the store is opened.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cidOf, parseBlobCid } from './cid.ts';
import { BlobIntegrityError, BlobNotFoundError, type BlobStore } from './types.ts';

const TMP = '.tmp';

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Whether the process named in a temporary file (`<cid>.<pid>.<random>`) is still running. */
function writerIsAlive(name: string): boolean {
  const pid = Number(name.split('.')[1]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function createFsBlobStore(dir: string): Promise<BlobStore> {
  await mkdir(join(dir, TMP), { recursive: true });
  // A crash mid-write leaves only temporary files: remove those of writers that are gone. Several
  // processes share one store (web, anchorer, gateways), so a file whose writer still runs is
  // another process's write in progress, not debris.
  for (const name of await readdir(join(dir, TMP))) {
    if (!writerIsAlive(name)) await rm(join(dir, TMP, name), { force: true });
  }

  const pathOf = (cid: string) => {
    parseBlobCid(cid);
    return join(dir, cid.slice(-2), cid);
  };
  const exists = async (path: string) =>
    stat(path).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    );

  const store: BlobStore = {
    kind: 'fs',
    async put(bytes) {
      const [cid] = await store.putMany([bytes]);
      return cid!;
    },
    async putMany(blobs) {
      // Every blob is written and fsynced under a temporary name, renamed into place, and then each
      // shard directory touched is fsynced once: the same guarantee as one put at a time, with one
      // directory sync per shard instead of one per blob.
      const cids = blobs.map((b) => cidOf(b));
      const todo = new Map<string, Uint8Array>();
      await Promise.all(
        cids.map(async (cid, i) => {
          if (!todo.has(cid) && !(await exists(pathOf(cid)))) todo.set(cid, blobs[i]!);
        }),
      );
      const shards = new Set([...todo.keys()].map((cid) => join(dir, cid.slice(-2))));
      await Promise.all([...shards].map((shard) => mkdir(shard, { recursive: true })));
      await Promise.all(
        [...todo].map(async ([cid, bytes]) => {
          const tmp = join(dir, TMP, `${cid}.${process.pid}.${randomBytes(6).toString('hex')}`);
          const handle = await open(tmp, 'wx');
          try {
            await handle.writeFile(bytes);
            await handle.sync();
          } finally {
            await handle.close();
          }
          await rename(tmp, pathOf(cid));
        }),
      );
      await Promise.all([...shards].map(fsyncDir));
      return cids;
    },
    async get(cid) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(pathOf(cid)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(cid);
        throw err;
      }
      const actual = cidOf(bytes);
      if (actual !== cid) throw new BlobIntegrityError(cid, actual);
      return bytes;
    },
    async has(cid) {
      return exists(pathOf(cid));
    },
    async delete(cid) {
      await unlink(pathOf(cid)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  };
  return store;
}
