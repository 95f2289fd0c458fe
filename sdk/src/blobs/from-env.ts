/** NODE-ONLY. The blob store the configuration asks for (BLOB_STORE=fs|s3). */
import { join } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { createFsBlobStore } from './fs.ts';
import { createS3BlobStore } from './s3.ts';
import type { BlobStore } from './types.ts';

const schema = z.discriminatedUnion('BLOB_STORE', [
  z.object({ BLOB_STORE: z.literal('fs'), DATA_DIR: z.string().min(1).default(join(REPO_ROOT, '.consentry')) }),
  z.object({
    BLOB_STORE: z.literal('s3'),
    S3_ENDPOINT: z.url(),
    S3_BUCKET: z.string().min(3),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_ACCESS_KEY_ID: z.string().min(1),
    S3_SECRET_ACCESS_KEY: z.string().min(1),
  }),
]);

/** Opens the configured store: the filesystem under DATA_DIR/blobs by default, or S3. */
export async function blobStoreFromEnv(env: Record<string, string | undefined> = process.env): Promise<BlobStore> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse({ BLOB_STORE: 'fs', ...cleaned });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || 'BLOB_STORE'}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid blob store configuration (BLOB_STORE is fs or s3):\n${problems}`);
  }
  const c = parsed.data;
  if (c.BLOB_STORE === 'fs') return createFsBlobStore(join(c.DATA_DIR, 'blobs'));
  return createS3BlobStore({
    endpoint: c.S3_ENDPOINT,
    bucket: c.S3_BUCKET,
    region: c.S3_REGION,
    accessKeyId: c.S3_ACCESS_KEY_ID,
    secretAccessKey: c.S3_SECRET_ACCESS_KEY,
  });
}
