import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBatch, leafHash, verifyLeaf } from '../anchor/leaf.ts';
import { createFsBlobStore } from '../blobs/fs.ts';
import { createKeyOpener, createKeySealer, decryptRecord } from '../crypto/envelope.ts';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '../keys.ts';
import { synthesizeBundles } from '../synth/generate.ts';
import { ANVIL_ACCOUNTS } from '../testing/anvil.ts';
import { canonicalJson } from './canonical.ts';
import { prepareRecordVersion } from './prepare.ts';

const account = ANVIL_ACCOUNTS[1]!;
const keys = deriveEncryptionKeyPair(await privateKeyToAccount(account.privateKey).signTypedData(keyDerivationTypedData(31337)));
const dir = mkdtempSync(join(tmpdir(), 'consentry-prepare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prepareRecordVersion', () => {
  it('stores only ciphertext; the patient alone opens it back to the canonical resource; every leaf anchors', async () => {
    const blobs = await createFsBlobStore(dir);
    const seal = createKeySealer(keys.publicKey);
    const open = createKeyOpener(keys.secretKey);
    const resources = synthesizeBundles({ patients: 3, seed: 'prepare' }).flatMap((b) => b.entry.map((e) => e.resource));
    const prepared = [];
    for (const resource of resources) prepared.push(await prepareRecordVersion({ resource, patient: account.address, seal, blobs }));

    for (const [i, p] of prepared.entries()) {
      const ciphertext = await blobs.get(p.cid);
      const name = (resources[i]!.name as Array<{ family: string }> | undefined)?.[0]?.family;
      if (name) expect(Buffer.from(ciphertext).includes(Buffer.from(name))).toBe(false);
      const plaintext = decryptRecord({ ciphertext, dek: open(p.sealedKey), recordId: p.recordId, version: p.version, category: p.category });
      expect(new TextDecoder().decode(plaintext)).toBe(canonicalJson(resources[i]));
    }
    expect(new Set(prepared.map((p) => p.category))).toContain('demographics');
    const batch = buildBatch(prepared.map((p) => p.leaf));
    prepared.forEach((p, i) => expect(verifyLeaf(batch.root, p.leaf, batch.proofs[i]!)).toBe(true));
  });

  it('a correction is version 2 and names the leaf it supersedes', async () => {
    const blobs = await createFsBlobStore(dir);
    const seal = createKeySealer(keys.publicKey);
    const resource = { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'HbA1c' } };
    const v1 = await prepareRecordVersion({ resource, patient: account.address, seal, blobs });
    const v2 = await prepareRecordVersion({
      resource: { ...resource, status: 'amended' },
      patient: account.address,
      seal,
      blobs,
      version: 2,
      supersedes: leafHash(v1.leaf),
    });
    expect(v2.recordId).toBe(v1.recordId);
    expect(v2.cid).not.toBe(v1.cid);
    expect(v2.leaf.supersedes).toBe(leafHash(v1.leaf));
  });

  it('refuses a resource without an id', async () => {
    const blobs = await createFsBlobStore(dir);
    await expect(
      prepareRecordVersion({ resource: { resourceType: 'Observation' }, patient: account.address, seal: createKeySealer(keys.publicKey), blobs }),
    ).rejects.toMatchObject({ code: 'RECORD_NO_ID' });
  });
});
