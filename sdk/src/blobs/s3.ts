/**
 * NODE-ONLY (credentials). Blob store on any S3-compatible service (AWS S3, MinIO, Ceph, R2…):
 * one object per CID, path-style URLs, requests signed with AWS Signature V4 (aws4fetch). An S3 PUT
 * is atomic (the object appears whole or not at all), and every read is re-hashed against its CID.
 */
import { AwsClient } from 'aws4fetch';
import { ConsentryError } from '../errors.ts';
import { cidOf, parseBlobCid } from './cid.ts';
import { BlobIntegrityError, BlobNotFoundError, type BlobStore } from './types.ts';

export interface S3Options {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export class BlobStoreError extends ConsentryError {}

/** The S3 error code in an error response body (`<Code>NoSuchBucket</Code>`), if any. */
const s3ErrorCode = (body: string) => /<Code>([^<]+)<\/Code>/.exec(body)?.[1];

export function createS3BlobStore(opts: S3Options): BlobStore {
  const client = new AwsClient({
    accessKeyId: opts.accessKeyId,
    secretAccessKey: opts.secretAccessKey,
    region: opts.region,
    service: 's3',
  });
  const base = `${opts.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(opts.bucket)}`;
  const where = `${new URL(opts.endpoint).origin}, bucket ${opts.bucket}`;

  const request = async (method: string, cid: string, body?: Uint8Array): Promise<Response> => {
    parseBlobCid(cid);
    let res: Response;
    try {
      res = await client.fetch(`${base}/${cid}`, { method, ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}) });
    } catch (cause) {
      throw new BlobStoreError('BLOB_STORE_UNREACHABLE', `Cannot reach the S3 store at ${where}`, { cause });
    }
    return res;
  };
  const fail = async (res: Response, what: string): Promise<never> => {
    const code = s3ErrorCode(await res.text().catch(() => '')) ?? res.statusText;
    throw new BlobStoreError('BLOB_STORE_FAILED', `The S3 store at ${where} refused to ${what}: ${res.status} ${code}`);
  };

  const put = async (bytes: Uint8Array): Promise<string> => {
    const cid = cidOf(bytes);
    const res = await request('PUT', cid, bytes);
    if (!res.ok) await fail(res, `store ${cid}`);
    await res.arrayBuffer();
    return cid;
  };

  return {
    kind: 's3',
    put,
    async putMany(blobs) {
      // S3 has no multi-object PUT: 16 requests in flight at a time.
      const cids: string[] = new Array(blobs.length);
      let next = 0;
      const lane = async () => {
        while (next < blobs.length) {
          const i = next++;
          cids[i] = await put(blobs[i]!);
        }
      };
      await Promise.all(Array.from({ length: Math.min(16, blobs.length) }, lane));
      return cids;
    },
    async get(cid) {
      const res = await request('GET', cid);
      if (res.status === 404) {
        await res.arrayBuffer();
        throw new BlobNotFoundError(cid);
      }
      if (!res.ok) await fail(res, `read ${cid}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const actual = cidOf(bytes);
      if (actual !== cid) throw new BlobIntegrityError(cid, actual);
      return bytes;
    },
    async has(cid) {
      const res = await request('HEAD', cid);
      await res.arrayBuffer();
      if (res.status === 404) return false;
      if (!res.ok) await fail(res, `look up ${cid}`);
      return true;
    },
    async delete(cid) {
      const res = await request('DELETE', cid);
      if (!res.ok && res.status !== 404) await fail(res, `delete ${cid}`);
      await res.arrayBuffer().catch(() => undefined);
    },
  };
}
