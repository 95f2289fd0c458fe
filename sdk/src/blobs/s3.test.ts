import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClient } from 'aws4fetch';
// s3rver: an S3-compatible server in Node (npm), run for real on a loopback port.
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../net.ts';
import { cidOf } from './cid.ts';
import { blobStoreContract } from './contract.ts';
import { blobStoreFromEnv } from './from-env.ts';
import { createS3BlobStore, type S3Options } from './s3.ts';

describe('createS3BlobStore against a real S3-compatible server (s3rver)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consentry-s3-'));
  let server: { close(): Promise<void> };
  let opts: S3Options;

  beforeAll(async () => {
    const port = await freePort();
    const instance = new S3rver({
      port,
      address: '127.0.0.1',
      silent: true,
      directory: dir,
      configureBuckets: [{ name: 'consentry-blobs', configs: [] }],
    });
    await instance.run();
    server = instance;
    opts = {
      endpoint: `http://127.0.0.1:${port}`,
      bucket: 'consentry-blobs',
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    };
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  blobStoreContract(async () => createS3BlobStore(opts));

  it('detects an object altered in the bucket', async () => {
    const store = createS3BlobStore(opts);
    const cid = await store.put(new TextEncoder().encode('original ciphertext'));
    // Someone with bucket access overwrites the object behind our back.
    const raw = new AwsClient({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1', service: 's3' });
    const res = await raw.fetch(`${opts.endpoint}/${opts.bucket}/${cid}`, { method: 'PUT', body: 'forged ciphertext' });
    expect(res.ok).toBe(true);
    await expect(store.get(cid)).rejects.toMatchObject({ code: 'BLOB_INTEGRITY' });
  });

  it('says in words when the bucket does not exist or the server is down', async () => {
    const cid = cidOf(new TextEncoder().encode('x'));
    await expect(createS3BlobStore({ ...opts, bucket: 'no-such-bucket' }).put(new TextEncoder().encode('x'))).rejects.toMatchObject({
      code: 'BLOB_STORE_FAILED',
      message: expect.stringContaining('NoSuchBucket'),
    });
    await expect(createS3BlobStore({ ...opts, endpoint: 'http://127.0.0.1:9' }).get(cid)).rejects.toMatchObject({
      code: 'BLOB_STORE_UNREACHABLE',
    });
  });

  it('is what BLOB_STORE=s3 opens; bad settings are named', async () => {
    const store = await blobStoreFromEnv({
      BLOB_STORE: 's3',
      S3_ENDPOINT: opts.endpoint,
      S3_BUCKET: opts.bucket,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    });
    expect(store.kind).toBe('s3');
    const cid = await store.put(new TextEncoder().encode('via env'));
    expect(await store.has(cid)).toBe(true);
    await expect(blobStoreFromEnv({ BLOB_STORE: 's3', S3_ENDPOINT: 'nope' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(blobStoreFromEnv({ BLOB_STORE: 'ftp' })).rejects.toThrowError(/fs or s3/);
    expect((await blobStoreFromEnv({ DATA_DIR: dir })).kind).toBe('fs');
  });
});
