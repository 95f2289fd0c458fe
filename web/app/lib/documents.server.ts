/**
 * Study documents behind POST /api/documents and GET /api/documents/:hash: a researcher's study
 * description (metadata JSON), protocol and consent text, and an IRB's rationale, stored
 * content-addressed in the blob store; their SHA-256 is what goes on chain (createStudy's
 * metadataHash, protocolHash, consentHash; an IRB decision's rationale hash). Public by nature (a
 * study's terms are published), so reading needs no session; writing needs a signed-in wallet.
 */
import type { Hex } from 'viem';
import { z } from 'zod';
import { putStudyDocument, readStudyDocument, StudyDocumentError } from '@consentry/sdk/research/study-documents';
import { putStudyMetadata, readStudyMetadata, StudyMetadataError, type StudyMetadata } from '@consentry/sdk/zk/study-metadata';
import { recordStores } from './records.server.ts';
import { ApiError } from './session.server.ts';

const postSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string().min(1, 'the text is empty') }),
  z.object({ kind: z.literal('metadata'), metadata: z.unknown() }),
]);

function refused(err: unknown): never {
  if (err instanceof StudyDocumentError || err instanceof StudyMetadataError) {
    const missing = (err as { code: string }).code === 'STUDY_DOCUMENT_MISSING' || /not in the store|BLOB_NOT_FOUND/.test(err.message);
    throw new ApiError(missing ? 404 : 400, err.code, err.message);
  }
  if ((err as { code?: string })?.code === 'BLOB_NOT_FOUND') throw new ApiError(404, 'DOCUMENT_NOT_FOUND', 'No document with this hash is stored here');
  throw err;
}

/** Stores a document; answers its hash (what goes on chain) and CID. */
export async function storeDocument(body: unknown): Promise<{ hash: Hex; cid: string }> {
  const parsed = postSchema.safeParse(body);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ApiError(400, 'BAD_DOCUMENT', `The document is malformed at ${i.path.join('.') || 'the top level'}: ${i.message}`);
  }
  const { blobs } = await recordStores();
  try {
    if (parsed.data.kind === 'text') return await putStudyDocument(blobs, parsed.data.text);
    const { metadataHash, cid } = await putStudyMetadata(blobs, parsed.data.metadata as StudyMetadata);
    return { hash: metadataHash, cid };
  } catch (err) {
    refused(err);
  }
}

/** A stored document by its hash, checked against it: `text` (protocol, consent, rationale) or `metadata`. */
export async function readDocument(hash: string, kind: string | null): Promise<{ hash: Hex; text: string } | { hash: Hex; metadata: StudyMetadata }> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) throw new ApiError(400, 'BAD_HASH', 'A document hash is 0x and 64 hex digits');
  const h = hash.toLowerCase() as Hex;
  const { blobs } = await recordStores();
  try {
    if (kind === 'metadata') return { hash: h, metadata: await readStudyMetadata(blobs, h) };
    return { hash: h, text: await readStudyDocument(blobs, h) };
  } catch (err) {
    refused(err);
  }
}
