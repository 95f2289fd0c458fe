// POST /api/documents and GET /api/documents/:hash on a real filesystem blob store (a temp
// DATA_DIR), called as the browser calls them: a signed-in session cookie, JSON bodies. A protocol
// text and a study description are stored and read back by the hash that goes on chain; a blob
// altered on disk is refused as altered; a write without a session, a malformed body, an invalid
// description and a malformed or unknown hash are refused with their status and code.
import { readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionTypedData } from '@consentry/sdk/records/session';
import { studyDocumentHash } from '@consentry/sdk/research/study-documents';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { studyMetadataHash, type StudyMetadata } from '@consentry/sdk/zk/study-metadata';

const dataDir = mkdtempSync(join(tmpdir(), 'consentry-documents-'));
process.env.DATA_DIR = dataDir;
// No deployment here: a wallet signs in as its own account (session.server.ts asks no chain).
process.env.DEPLOYMENTS_DIR = dataDir;
process.env.CHAIN_ID = '31337';
delete process.env.DATABASE_URL;

const { action: postDocument } = await import('../routes/api.documents.ts');
const { loader: getDocument } = await import('../routes/api.documents.$hash.ts');
const { signIn } = await import('./session.server.ts');

const CHAIN_ID = 31337;
const researcher = privateKeyToAccount(ANVIL_ACCOUNTS[3]!.privateKey);
const protocol = 'STUDY PROTOCOL: Synthetic diabetes study\n\n1. Design\nRetrospective, observational; synthetic data only.\n';
const metadata: StudyMetadata = {
  version: 1,
  title: 'Synthetic diabetes study',
  summary: 'HbA1c over time in adults with type 2 diabetes (synthetic).',
  criteria: { version: 1, age: { min: 18, max: 90 }, hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'] } },
};
let cookie: string;

beforeAll(async () => {
  const issuedAt = Math.floor(Date.now() / 1000);
  const signature = await researcher.signTypedData(sessionTypedData(CHAIN_ID, researcher.address, issuedAt));
  cookie = (await signIn({ address: researcher.address, issuedAt, signature })).cookie.split(';')[0]!;
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const post = (body: unknown, withCookie = true) =>
  postDocument({
    request: new Request('http://web/api/documents', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(withCookie ? { cookie } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    params: {},
    context: {},
  });
const get = (hash: string, kind?: string) =>
  getDocument({ request: new Request(`http://web/api/documents/${hash}${kind ? `?kind=${kind}` : ''}`), params: { hash }, context: {} });
const errorOf = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code });

/** The stored blob's file under DATA_DIR (the fs store shards by the CID's last two characters). */
function blobFile(cid: string, dir = dataDir): string | undefined {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === cid) return path;
    if (statSync(path).isDirectory()) {
      const found = blobFile(cid, path);
      if (found) return found;
    }
  }
  return undefined;
}

describe('study documents', () => {
  it('stores a text and a description and reads each back by the hash that goes on chain', async () => {
    const text = await post({ kind: 'text', text: protocol });
    expect(text.status).toBe(200);
    const stored = (await text.json()) as { hash: string; cid: string };
    expect(stored.hash).toBe(studyDocumentHash(protocol));
    const read = await get(stored.hash);
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({ hash: stored.hash, text: protocol });
    // Upper-case hex is the same document.
    expect(((await (await get(`0x${stored.hash.slice(2).toUpperCase()}`)).json()) as { text: string }).text).toBe(protocol);

    const meta = await post({ kind: 'metadata', metadata });
    expect(meta.status).toBe(200);
    const { hash } = (await meta.json()) as { hash: string };
    expect(hash).toBe(studyMetadataHash(metadata));
    expect(await (await get(hash, 'metadata')).json()).toEqual({ hash, metadata });
  });

  it('refuses a document altered in the store', async () => {
    const { hash, cid } = (await (await post({ kind: 'text', text: 'CONSENT: to be altered on disk\n' })).json()) as { hash: string; cid: string };
    const file = blobFile(cid);
    expect(file).toBeDefined();
    writeFileSync(file!, readFileSync(file!).map((b, i) => (i === 0 ? b ^ 1 : b)));
    const res = await get(hash);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toMatch(/ALTERED|MISMATCH/);
  });

  it('refuses bad input with its status and code', async () => {
    expect(await errorOf(await post({ kind: 'text', text: protocol }, false))).toEqual({ status: 401, code: expect.any(String) });
    expect(await errorOf(await post('not json'))).toEqual({ status: 400, code: 'BAD_DOCUMENT' });
    expect(await errorOf(await post({ kind: 'pdf', text: protocol }))).toEqual({ status: 400, code: 'BAD_DOCUMENT' });
    expect(await errorOf(await post({ kind: 'text', text: '' }))).toEqual({ status: 400, code: 'BAD_DOCUMENT' });
    expect(await errorOf(await post({ kind: 'metadata', metadata: { ...metadata, title: 'x' } }))).toEqual({ status: 400, code: 'STUDY_METADATA_INVALID' });
    expect(await errorOf(await post({ kind: 'metadata', metadata: { ...metadata, criteria: { version: 1, age: { min: 90, max: 18 } } } }))).toEqual({
      status: 400,
      code: 'STUDY_METADATA_INVALID',
    });
    expect(await errorOf(await get('0x1234'))).toEqual({ status: 400, code: 'BAD_HASH' });
    expect((await errorOf(await get(studyDocumentHash('never stored\n')))).status).toBe(404);
  });
});
