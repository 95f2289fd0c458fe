import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { createCollectingStore } from '../blobs/collect.ts';
import { DecryptionError } from '../crypto/envelope.ts';
import { CommitteeUnavailableError, createShareOpener, ShareMismatchError, type Committee, type OpenedShare } from '../crypto/shares.ts';
import { CATEGORIES, categoryMask } from '../records/categories.ts';
import { validateFhirResource } from '../records/fhir.ts';
import { ANVIL_ACCOUNTS } from '../testing/anvil.ts';
import { synthesizeBundles } from '../synth/generate.ts';
import { buildExtract } from './extract.ts';
import { extractBundle, extractCid, extractHashOf, ExtractHashMismatchError, openExtract, recoverExtractKey, sealExtract } from './seal-extract.ts';

const members = [0, 1, 2, 3, 4].map((n) => {
  const secretKey = randomBytes(32);
  return { id: ANVIL_ACCOUNTS[n]!.address, secretKey, publicKey: x25519.getPublicKey(secretKey) };
});
const committee: Committee = { epoch: 3, threshold: 3, members: members.map(({ id, publicKey }) => ({ id, publicKey })) };
const openers = members.map((m) => createShareOpener(m.secretKey));
const studyId = 7n;

const [bundle] = synthesizeBundles({ patients: 1, seed: 'seal-extract' });
const extract = buildExtract(bundle!.entry.map((e) => e.resource), { categories: BigInt(categoryMask([...CATEGORIES])) });

describe('sealExtract', () => {
  it('k of n released shares open the extract for the buyer; k-1 cannot', async () => {
    const sealed = await sealExtract(extract, { committee, studyId });
    expect(sealed.extractHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(sealed.extractHash).toBe(extractHashOf(sealed.ciphertext));
    expect(sealed.shares.map((s) => s.memberId)).toEqual(committee.members.map((m) => m.id));
    // Nothing of the extract shows in what is stored or sent.
    const clear = Buffer.from(sealed.ciphertext).toString('latin1');
    expect(clear).not.toContain('Observation');
    expect(clear).not.toContain(extract.resources[0]!.id!);

    const opened: OpenedShare[] = sealed.shares.map((s, i) => openers[i]!(s.sealed));
    const expectation = { studyId, extractHash: sealed.extractHash, threshold: committee.threshold, epoch: committee.epoch, members: committee.members.map((m) => m.id) };
    for (const subset of [[0, 1, 2], [2, 3, 4], [4, 0, 3]]) {
      const key = await recoverExtractKey(subset.map((i) => opened[i]!), expectation);
      const { resources } = openExtract(sealed.ciphertext, key, { studyId, extractHash: sealed.extractHash });
      expect(resources).toEqual(JSON.parse(JSON.stringify(extract.resources)));
    }
    const few = recoverExtractKey([opened[1]!, opened[3]!], expectation);
    await expect(few).rejects.toBeInstanceOf(CommitteeUnavailableError);
    await expect(few).rejects.toMatchObject({ code: 'COMMITTEE_UNAVAILABLE', have: 2, threshold: 3 });
  });

  it('binds the extract to its study and its hash: other studies, other extracts and altered ciphertexts are refused', async () => {
    const a = await sealExtract(extract, { committee, studyId });
    const b = await sealExtract(extract, { committee, studyId });
    expect(a.extractHash).not.toBe(b.extractHash); // fresh key and nonce each time
    const openedA = a.shares.map((s, i) => openers[i]!(s.sealed));
    const openedB = b.shares.map((s, i) => openers[i]!(s.sealed));
    const expectation = { studyId, extractHash: a.extractHash, threshold: 3 };
    // B's shares are not shares of A's key.
    await expect(recoverExtractKey(openedB.slice(0, 3), expectation)).rejects.toBeInstanceOf(ShareMismatchError);
    await expect(recoverExtractKey([openedA[0]!, openedA[1]!, openedB[2]!], expectation)).rejects.toBeInstanceOf(ShareMismatchError);
    await expect(recoverExtractKey(openedA.slice(0, 3), { ...expectation, studyId: 8n })).rejects.toBeInstanceOf(ShareMismatchError);

    const key = await recoverExtractKey(openedA.slice(0, 3), expectation);
    expect(() => openExtract(a.ciphertext, key, { studyId: 8n })).toThrow(DecryptionError);
    expect(() => openExtract(b.ciphertext, key, { studyId })).toThrow(DecryptionError);
    const altered = a.ciphertext.slice();
    altered[altered.length - 1]! ^= 1;
    expect(() => openExtract(altered, key, { studyId, extractHash: a.extractHash })).toThrow(ExtractHashMismatchError);
    expect(() => openExtract(altered, key, { studyId })).toThrow(DecryptionError);
  });

  it('the buyer finds the ciphertext in the blob store by the hash registered on chain', async () => {
    const sealed = await sealExtract(extract, { committee, studyId });
    const blobs = createCollectingStore();
    const cid = await blobs.put(sealed.ciphertext);
    expect(extractCid(sealed.extractHash)).toBe(cid);
    expect(await blobs.get(extractCid(sealed.extractHash))).toEqual(sealed.ciphertext);
    expect(() => extractCid('0x1234')).toThrow(RangeError);
  });

  it('the opened extract is a valid FHIR collection Bundle', async () => {
    for (const r of extract.resources) expect(validateFhirResource(r)).toEqual([]);
    expect(validateFhirResource(extractBundle(extract.resources))).toEqual([]);
  });
});
