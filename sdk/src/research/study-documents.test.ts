// A study's protocol and consent text in a real filesystem blob store: the hash is SHA-256 of the
// UTF-8 bytes and the CID's digest; a read is checked against the on-chain hash; a missing blob, a
// blob altered on disk, one over the size bound, one that is not UTF-8 and a zero or malformed hash
// are each refused with their own code, in words.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zeroHash, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidDigest, cidOf } from '../blobs/cid.ts';
import { createFsBlobStore } from '../blobs/fs.ts';
import type { BlobStore } from '../blobs/types.ts';
import {
  decodeStudyDocument,
  MAX_STUDY_DOCUMENT_BYTES,
  putStudyDocument,
  readStudyDocument,
  studyDocumentCid,
  studyDocumentHash,
  StudyDocumentError,
} from './study-documents.ts';

const dir = mkdtempSync(join(tmpdir(), 'consentry-study-documents-'));
let store: BlobStore;
beforeAll(async () => {
  store = await createFsBlobStore(join(dir, 'blobs'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256Hex = (bytes: Uint8Array): Hex => `0x${createHash('sha256').update(bytes).digest('hex')}`;
const consent = 'AUTHORIZATION FOR RESEARCH USE\n\nI authorize the release of my laboratory results (HbA1c, glucose) to the study team. Signé: ______ Date: ______\n';

describe('study documents', () => {
  it('stores the exact UTF-8 bytes: the hash is their SHA-256 and the digest of the CID', async () => {
    const { hash, cid } = await putStudyDocument(store, consent);
    const bytes = new TextEncoder().encode(consent);
    expect(hash).toBe(sha256Hex(bytes));
    expect(hash).toBe(studyDocumentHash(consent));
    expect(cid).toBe(cidOf(bytes));
    expect(cid).toBe(studyDocumentCid(hash));
    expect(Buffer.from(cidDigest(cid)).toString('hex')).toBe(hash.slice(2));
    expect(await readStudyDocument(store, hash)).toBe(consent);
    expect(await readStudyDocument(store, hash.toUpperCase().replace('0X', '0x') as Hex)).toBe(consent);
    // Idempotent: the same text is the same blob.
    expect(await putStudyDocument(store, consent)).toEqual({ hash, cid });
  });

  it('refuses a document that is not stored', async () => {
    const hash = studyDocumentHash('A protocol nobody stored.');
    const err = await readStudyDocument(store, hash).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudyDocumentError);
    expect(err).toMatchObject({ code: 'STUDY_DOCUMENT_MISSING', message: `No document with hash ${hash} is in the store (CID ${studyDocumentCid(hash)})` });
  });

  it('refuses a document altered in the store', async () => {
    const text = 'Protocol v1: observational, no intervention.';
    const { hash, cid } = await putStudyDocument(store, text);
    const path = join(dir, 'blobs', cid.slice(-2), cid);
    const altered = readFileSync(path);
    altered[10] = altered[10]! ^ 1;
    writeFileSync(path, altered);
    await expect(readStudyDocument(store, hash)).rejects.toMatchObject({ code: 'STUDY_DOCUMENT_ALTERED', message: expect.stringContaining('does not match the hash on chain') });
    // The check does not rely on the store: bytes that do not hash to the on-chain hash are refused.
    expect(() => decodeStudyDocument(new TextEncoder().encode('Protocol v2: interventional.'), hash)).toThrow(
      expect.objectContaining({ code: 'STUDY_DOCUMENT_ALTERED', message: `The stored document does not match the hash on chain (${hash}): it was altered or is another study's` }),
    );
  });

  it('refuses a document over the size bound, to store or to read', async () => {
    const big = 'x'.repeat(MAX_STUDY_DOCUMENT_BYTES + 1);
    await expect(putStudyDocument(store, big)).rejects.toMatchObject({ code: 'STUDY_DOCUMENT_TOO_LARGE', message: expect.stringContaining('at most 256 KiB') });
    // Stored by someone else, bypassing putStudyDocument: the read refuses it before decoding.
    const bytes = new TextEncoder().encode(big);
    await store.put(bytes);
    await expect(readStudyDocument(store, sha256Hex(bytes))).rejects.toMatchObject({ code: 'STUDY_DOCUMENT_TOO_LARGE', message: expect.stringContaining('larger than 256 KiB') });
    // Exactly at the bound is fine (multi-byte characters count as their UTF-8 bytes).
    const atBound = 'é'.repeat(MAX_STUDY_DOCUMENT_BYTES / 2);
    expect(await readStudyDocument(store, (await putStudyDocument(store, atBound)).hash)).toBe(atBound);
  });

  it('refuses bytes that are not UTF-8, an empty text, and a zero or malformed hash', async () => {
    const latin1 = Uint8Array.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
    await store.put(latin1);
    await expect(readStudyDocument(store, sha256Hex(latin1))).rejects.toMatchObject({ code: 'STUDY_DOCUMENT_INVALID', message: 'The stored document is not UTF-8 text' });
    await expect(putStudyDocument(store, ' \n ')).rejects.toMatchObject({ code: 'STUDY_DOCUMENT_INVALID', message: 'A study document needs some text' });
    await expect(readStudyDocument(store, zeroHash)).rejects.toMatchObject({ code: 'STUDY_DOCUMENT_INVALID', message: 'The zero hash names no document: the study registered none' });
    await expect(readStudyDocument(store, '0x1234')).rejects.toMatchObject({ code: 'STUDY_DOCUMENT_INVALID', message: expect.stringContaining('32 bytes') });
  });
});
