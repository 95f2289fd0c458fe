// The browser's eligibility helpers against a real issuer service (workers/src/issuer on a loopback
// port; its on-chain accreditation answered here, since no proof is made): the credential is for the
// patient's own identity and verifies, refusals and an unreachable issuer read in words; the kept
// credential opens only with its patient's key; the proof's time follows the chain.
import { x25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShareOpener, type Committee } from '@consentry/sdk/crypto/shares';
import { categorize, categoryMask } from '@consentry/sdk/records/categories';
import { openExtract, recoverExtractKey } from '@consentry/sdk/research/seal-extract';
import { privateKeyToAccount } from 'viem/accounts';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { synthesizeBundles } from '@consentry/sdk/synth/generate';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { rememberIdentityRoot } from './keyring.ts';
import { issuerKeyFromSecret, verifyCredential } from '@consentry/sdk/zk/credential';
import { fromBase64, toBase64 } from '@consentry/sdk/records/versions';
import { createIssuer } from '@consentry/workers/src/issuer/issuer.ts';
import { startIssuerServer, type IssuerServer } from '@consentry/workers/src/issuer/server.ts';
import { credentialStorageKey, loadCredential, prepareExtract, proofTime, requestCredential, saveCredential, uploadSealedExtract, zkIdentity, type KeyValueStore } from './zk.client.ts';

const keysOf = async (index: number): Promise<EncryptionKeyPair> =>
  deriveEncryptionKeyPair(await privateKeyToAccount(ANVIL_ACCOUNTS[index]!.privateKey).signTypedData(keyDerivationTypedData(31337)));
const memoryStore = (): KeyValueStore & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
};

const records = synthesizeBundles({ patients: 1, seed: 'zk-client-test' })[0]!.entry.map((e) => e.resource as FhirResource);
let server: IssuerServer;
let accredited = true;
let alice: EncryptionKeyPair;
let bob: EncryptionKeyPair;

beforeAll(async () => {
  const issuer = createIssuer({ key: issuerKeyFromSecret(new TextEncoder().encode('zk-client-test-issuer')), name: 'Test clinic', isAccredited: async () => accredited });
  server = await startIssuerServer(issuer);
  [alice, bob] = await Promise.all([keysOf(2), keysOf(3)]);
});
afterAll(async () => {
  await server?.close();
});

describe('the patient zk identity', () => {
  it('is the same for the same wallet and differs between wallets', async () => {
    expect(zkIdentity(alice)).toEqual(zkIdentity(await keysOf(2)));
    expect(zkIdentity(alice).secret).not.toBe(zkIdentity(bob).secret);
  });

  it("after a rotation or recovery, is the account's first key's identity, opened from the keyring", async () => {
    // Bob's wallet now controls Alice's account; the keyring keeps Alice's first secret sealed to Bob's key.
    const bobAgain = await keysOf(3);
    const before = zkIdentity(bobAgain);
    const { openKeyring, keyringEntry } = await import('@consentry/sdk/recovery/keyring');
    const { root } = openKeyring([keyringEntry(alice.secretKey, bobAgain.publicKey)], bobAgain.secretKey);
    rememberIdentityRoot(bobAgain, root);
    expect(zkIdentity(bobAgain)).toEqual(zkIdentity(alice));
    expect(zkIdentity(bobAgain)).not.toEqual(before);
  });
});

describe('requestCredential', () => {
  it("brings back a credential for the patient's own identity, signed and verifying", async () => {
    const credential = await requestCredential(server.url, records, zkIdentity(alice));
    expect(credential.identityCommitment).toBe(zkIdentity(alice).commitment.toString());
    expect(verifyCredential(credential)).toBe(true);
    expect(credential.attributes.birthDate).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(credential.expiresAt - credential.issuedAt).toBe(365 * 86_400);
  });

  it("passes on the issuer's refusal in words, and says when the issuer cannot be reached", async () => {
    accredited = false;
    try {
      await expect(requestCredential(server.url, records, zkIdentity(alice))).rejects.toMatchObject({
        code: 'NOT_ACCREDITED',
        message: expect.stringMatching(/^The issuer did not issue a credential: This issuer \(leaf \d+\) is not in the on-chain issuers tree/),
      });
    } finally {
      accredited = true;
    }
    await expect(requestCredential('http://127.0.0.1:9', records, zkIdentity(alice))).rejects.toThrow('Cannot reach the credential issuer at http://127.0.0.1:9');
    await expect(requestCredential(server.url, [], zkIdentity(alice))).rejects.toThrow('You have no records to base a credential on: upload your records first');
  });

  it("refuses a credential made for someone else's identity", async () => {
    // An issuer that answers with another patient's credential (a mix-up or a malicious server).
    const other = await requestCredential(server.url, records, zkIdentity(bob));
    const confused = (async () => new Response(JSON.stringify({ credential: other }), { status: 200 })) as typeof fetch;
    await expect(requestCredential(server.url, records, zkIdentity(alice), confused)).rejects.toMatchObject({ code: 'CREDENTIAL_NOT_YOURS' });
    const forged = (async () => new Response(JSON.stringify({ credential: { ...other, identityCommitment: zkIdentity(alice).commitment.toString() } }), { status: 200 })) as typeof fetch;
    await expect(requestCredential(server.url, records, zkIdentity(alice), forged)).rejects.toMatchObject({ code: 'CREDENTIAL_BAD_SIGNATURE' });
  });
});

describe('the kept credential', () => {
  it('is sealed at rest, opens with its patient key only, and is per chain and wallet', async () => {
    const store = memoryStore();
    const patient = ANVIL_ACCOUNTS[2]!.address;
    const credential = await requestCredential(server.url, records, zkIdentity(alice));
    saveCredential(31337, patient, alice, credential, store);
    const stored = store.map.get(credentialStorageKey(31337, patient))!;
    expect(stored).not.toContain(credential.attributes.birthDate);
    expect(loadCredential(31337, patient, alice, store)).toEqual(credential);
    expect(loadCredential(31337, patient, bob, store)).toBeNull();
    expect(loadCredential(1, patient, alice, store)).toBeNull();
    store.map.set(credentialStorageKey(31337, patient), `${stored.slice(0, -4)}AAAA`);
    expect(loadCredential(31337, patient, alice, store)).toBeNull();
  });
});

describe('proofTime', () => {
  it("is the chain's time, or the credential's issue time when the issuer's clock is a little ahead", () => {
    expect(proofTime(1_000_000, { issuedAt: 999_000 })).toBe(1_000_000);
    expect(proofTime(1_000_000, { issuedAt: 1_000_030 })).toBe(1_000_030);
    expect(proofTime(1_000_000, { issuedAt: 1_001_000 })).toBe(1_000_000);
  });
});

describe('prepareExtract', () => {
  const members = [0, 1, 2].map((n) => {
    const secretKey = randomBytes(32);
    return { id: ANVIL_ACCOUNTS[n]!.address, secretKey, publicKey: x25519.getPublicKey(secretKey) };
  });
  const committee: Committee = { epoch: 1, threshold: 2, members: members.map(({ id, publicKey }) => ({ id, publicKey })) };

  it('builds the de-identified extract of the study\'s categories and seals it so that k members open it; the hash is the ciphertext\'s sha256', async () => {
    const studyId = 4n;
    const prepared = await prepareExtract(records, { studyId, categories: BigInt(categoryMask(['labs', 'conditions'])), committee });
    expect(prepared.extractHash).toBe(`0x${Buffer.from(sha256(prepared.ciphertext)).toString('hex')}`);
    expect(prepared.shares).toHaveLength(3);
    expect(prepared.resourceCount).toBeGreaterThan(0);
    expect(prepared.removed.length).toBeGreaterThan(0);
    const opened = prepared.shares.slice(0, 2).map((s, i) => createShareOpener(members[i]!.secretKey)(s.sealed));
    const key = await recoverExtractKey(opened, { studyId, extractHash: prepared.extractHash, threshold: 2, epoch: 1, members: committee.members.map((m) => m.id) });
    const { resources } = openExtract(prepared.ciphertext, key, { studyId, extractHash: prepared.extractHash });
    expect(resources).toHaveLength(prepared.resourceCount);
    // The wanted categories, and a stub Patient with only its pseudonym that their references resolve to.
    for (const r of resources) expect(r.resourceType === 'Patient' ? Object.keys(r).sort() : categorize(r)).toEqual(r.resourceType === 'Patient' ? ['id', 'resourceType'] : expect.stringMatching(/^(labs|conditions)$/));
    // No name of the patient survives.
    const patient = records.find((r) => r.resourceType === 'Patient') as { name?: Array<{ family?: string }> } | undefined;
    const family = patient?.name?.[0]?.family;
    if (family) expect(JSON.stringify(resources)).not.toContain(family);
  });

  it('uploads only the ciphertext and the sealed shares, and reports a refusal or an outage in words', async () => {
    const prepared = await prepareExtract(records, { studyId: 9n, categories: BigInt(categoryMask(['labs'])), committee });
    const sent: Array<{ url: string; body: Record<string, unknown> }> = [];
    const answering = (status: number, answer: unknown): typeof fetch => (async (url: string, init?: RequestInit) => {
      sent.push({ url, body: JSON.parse(String(init!.body)) as Record<string, unknown> });
      return new Response(JSON.stringify(answer), { status });
    }) as typeof fetch;
    expect(await uploadSealedExtract(9n, prepared, answering(200, { extractHash: prepared.extractHash, stored: true }))).toEqual({ stored: true });
    expect(sent[0]!.url).toBe('/api/extracts');
    expect(Object.keys(sent[0]!.body).sort()).toEqual(['ciphertext', 'shares', 'studyId']);
    expect(sent[0]!.body.studyId).toBe('9');
    expect(fromBase64(sent[0]!.body.ciphertext as string)).toEqual(prepared.ciphertext);
    expect(sent[0]!.body.shares).toEqual(prepared.shares.map((x) => ({ member: x.memberId, sealedShare: toBase64(x.sealed) })));
    await expect(uploadSealedExtract(9n, prepared, answering(409, { error: { code: 'STUDY_NOT_OPEN', message: 'Study #9 is not approved and open for enrollment' } }))).rejects.toMatchObject({
      code: 'STUDY_NOT_OPEN',
      message: 'The server refused your sealed extract: Study #9 is not approved and open for enrollment; nothing was enrolled',
    });
    await expect(uploadSealedExtract(9n, prepared, answering(200, { extractHash: `0x${'00'.repeat(32)}`, stored: true }))).rejects.toThrow(/filed your extract as 0x00/);
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await expect(uploadSealedExtract(9n, prepared, down)).rejects.toThrow('Your sealed extract could not be sent to the server (is it running?); nothing was enrolled');
  });

  it('refuses in words when the committee has nobody to seal to', async () => {
    await expect(prepareExtract(records, { studyId: 1n, categories: 1n, committee: { epoch: 0, threshold: 0, members: [] } })).rejects.toThrow(
      'The release committee has no members yet, so your extract could not be sealed to anyone',
    );
  });
});
