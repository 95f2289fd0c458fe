// Release gateways end to end on a real anvil chain with the deployed contracts: a clinician asks,
// the patient approves labs (not mental-health) for 7 days, three gateways (k = 2) release the lab
// record's key and refuse the mental-health one; replayed and forged requests are refused by every
// gateway; one gateway down still works, two down is a clear "committee unavailable"; a release
// survives the gateway's restart in its log; revocation and expiry refuse; an insurer is refused by
// the patient's policy before the request exists; the log's root is posted and every entry proves.
import { keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessGrantsAbi, releaseCommitteeAbi } from '@consentry/sdk/abi/generated';
import { releaseTypedData, ReleaseRefusedError } from '@consentry/sdk/access/release';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { decryptRecord } from '@consentry/sdk/crypto/envelope';
import { CommitteeUnavailableError } from '@consentry/sdk/crypto/shares';
import { categoryMask } from '@consentry/sdk/records/categories';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { verifyLogEntry } from './gateway.ts';
import { CHAIN, DAY, startAccessFixture, type AccessFixture, type Requester } from './testing/fixture.ts';

const lab = { resourceType: 'Observation', id: 'hba1c-1', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] }, valueQuantity: { value: 7.2, unit: '%' } } as FhirResource;
const mental = { resourceType: 'Condition', id: 'dep-1', subject: { reference: 'Patient/p' }, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'F32.9' }] } } as FhirResource;

let f: AccessFixture;
let clinic: Requester;
let insurer: Requester;
let labId: Hex;
let mentalId: Hex;
const client = () => publicClientFor(f.anvil.rpcUrl, CHAIN);
const c = () => f.deployment.contracts as Required<typeof f.deployment.contracts>;
const sign = (typed: ReturnType<typeof releaseTypedData>) => privateKeyToAccount(clinic.privateKey).signTypedData(typed);
const fetchKey = (recordId: Hex, gateways = f.refs) => f.fetchKey(clinic, recordId, gateways);

beforeAll(async () => {
  f = await startAccessFixture([lab, mental]);
  const listed = await f.records.list();
  labId = listed.find((r) => r.category === 'labs')!.recordId;
  mentalId = listed.find((r) => r.category === 'mental-health')!.recordId;
  clinic = await f.organization(0);
  insurer = await f.organization(3);
}, 180_000);

afterAll(async () => {
  await f?.close();
});

describe('release gateways (3 members, k = 2, real chain)', () => {
  it('refuses an insurer by the patient\'s policy before any request exists', async () => {
    await f.send(f.patient.privateKey, c().AccessGrants.address, accessGrantsAbi, 'setPolicy', [0, 1 << 3]);
    const wallet = walletClientFor(f.anvil.rpcUrl, CHAIN, insurer.privateKey);
    await expect(
      wallet.writeContract({ address: c().AccessGrants.address, abi: accessGrantsAbi, functionName: 'requestAccess', args: [f.patient.address, categoryMask(['labs']), 2, 30 * DAY], gas: 500_000n }).then((hash) => client().waitForTransactionReceipt({ hash })),
    ).resolves.toMatchObject({ status: 'reverted' });
    expect(await client().readContract({ address: c().AccessGrants.address, abi: accessGrantsAbi, functionName: 'requestCount' })).toBe(0n);
  });

  it('releases labs under the grant, refuses mental-health, and decrypts in the requester\'s hands', async () => {
    await f.send(clinic.privateKey, c().AccessGrants.address, accessGrantsAbi, 'requestAccess', [f.patient.address, categoryMask(['labs', 'mental-health']), 0, 30 * DAY]);
    await f.send(f.patient.privateKey, c().AccessGrants.address, accessGrantsAbi, 'approve', [1n, categoryMask(['labs']), 7 * DAY]);
    const got = await fetchKey(labId);
    expect(got.releasedBy.length).toBeGreaterThanOrEqual(2);
    const plaintext = decryptRecord({ ciphertext: got.ciphertext, dek: got.dek, recordId: labId, version: 1, category: 'labs' });
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual(lab);
    const refused = await fetchKey(mentalId).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ReleaseRefusedError);
    expect((refused as ReleaseRefusedError).code).toBe('CATEGORY_NOT_COVERED');
    expect((refused as ReleaseRefusedError).failures).toHaveLength(3);
  });

  it('refuses a replayed request and a forged one at every gateway, and a request that does not name it', async () => {
    const members = f.refs.map((r) => r.member);
    const request = { requester: clinic.address, requesterKey: clinic.keys.publicKeyHex, patient: f.patient.address, recordId: labId, version: 1, gateways: members, nonce: keccak256(toHex('once')), expiresAt: Math.floor(Date.now() / 1000) + 60 };
    // One signature for the whole read: every gateway it names answers it once.
    const body = JSON.stringify({ request, signature: await sign(releaseTypedData(CHAIN, c().AccessGrants.address, request)) });
    const post = (url: string, payload: string) =>
      fetch(`${url}/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string } } }));
    for (const ref of f.refs) {
      expect((await post(ref.url, body)).status).toBe(200);
      expect(await post(ref.url, body)).toMatchObject({ status: 409, body: { error: { code: 'REPLAYED' } } });
    }
    const forgedRequest = { ...request, nonce: keccak256(toHex('forged')) };
    const forgedSig = await privateKeyToAccount(insurer.privateKey).signTypedData(releaseTypedData(CHAIN, c().AccessGrants.address, forgedRequest));
    const onlyFirst = { ...request, gateways: [members[0]!], nonce: keccak256(toHex('only-first')) };
    const onlyFirstBody = JSON.stringify({ request: onlyFirst, signature: await sign(releaseTypedData(CHAIN, c().AccessGrants.address, onlyFirst)) });
    for (const [i, ref] of f.refs.entries()) {
      expect(await post(ref.url, JSON.stringify({ request: forgedRequest, signature: forgedSig }))).toMatchObject({ status: 401, body: { error: { code: 'BAD_SIGNATURE' } } });
      if (i > 0) expect(await post(ref.url, onlyFirstBody)).toMatchObject({ status: 400, body: { error: { code: 'WRONG_GATEWAY' } } });
    }
  });

  it('works with one gateway down; with two down says the committee is unavailable and names them', async () => {
    await f.stopGateway(0);
    expect((await fetchKey(labId)).releasedBy.sort()).toEqual([f.refs[1]!.member.toLowerCase(), f.refs[2]!.member.toLowerCase()].sort());
    await f.stopGateway(1);
    const err = await fetchKey(labId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitteeUnavailableError);
    expect((err as Error).message).toMatch(/Committee unavailable: 1 of the 2 shares/);
    expect((err as CommitteeUnavailableError).missing.sort()).toEqual([f.refs[0]!.member.toLowerCase(), f.refs[1]!.member.toLowerCase()].sort());
    await f.openGateway(0, Number(new URL(f.refs[0]!.url).port));
    await f.openGateway(1, Number(new URL(f.refs[1]!.url).port));
  });

  it('keeps every release in the log across a restart, posts the root on chain, and each entry proves', async () => {
    const before = f.gateways[2]!.log().length;
    await fetchKey(labId);
    const released = f.gateways[2]!.log();
    expect(released.length).toBeGreaterThan(before);
    await f.stopGateway(2); // as if killed right after the release
    await f.openGateway(2, Number(new URL(f.refs[2]!.url).port));
    expect(f.gateways[2]!.log().map((e) => e.id)).toEqual(released.map((e) => e.id));
    expect(await f.gateways[2]!.postLogRoots()).toBe(released.length);
    const entries = f.gateways[2]!.log();
    const root = entries[0]!.batchRoot as Hex;
    expect(await client().readContract({ address: c().ReleaseCommittee.address, abi: releaseCommitteeAbi, functionName: 'wasPostedBy', args: [root, f.refs[2]!.member] })).toBe(true);
    for (const e of entries) expect(verifyLogEntry(e, root, JSON.parse(e.proof!))).toBe(true);
    expect(verifyLogEntry({ ...entries[0]!, version: 2 }, root, JSON.parse(entries[0]!.proof!))).toBe(false);
    expect(entries.every((e) => e.requester === clinic.address.toLowerCase() && e.category === 'labs')).toBe(true);
  });

  it('serves its log as a public feed, paged by seq, with roots and proofs once posted', async () => {
    const g = f.refs[1]!;
    type Page = { member: string; entries: Array<{ seq: number; id: Hex; requester: string; patient: string; recordId: Hex; version: number; category: string; purpose: number; releasedAt: number; batchRoot: Hex | null; proof: Hex[] | null }>; next: number };
    const page = async (query: string) => {
      const res = await fetch(`${g.url}/log${query}`);
      return { status: res.status, body: (await res.json()) as Page & { error?: { code: string; message: string } } };
    };
    for (let i = 0; i < 3; i++) await fetchKey(labId);
    const all = await page('');
    expect(all.status).toBe(200);
    expect(all.body.member).toBe(g.member);
    expect(all.body.entries.length).toBe(f.gateways[1]!.log().length);
    expect(all.body.entries.length).toBeGreaterThanOrEqual(3);
    const seqs = all.body.entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(all.body.next).toBe(seqs.at(-1));
    // Not posted yet: the newest entries have no root.
    expect(all.body.entries.at(-1)).toMatchObject({ batchRoot: null, proof: null, requester: clinic.address.toLowerCase(), patient: f.patient.address.toLowerCase(), recordId: labId, version: 1, category: 'labs' });

    // Paging two at a time walks the same entries, in order, and ends with an empty page.
    const walked: number[] = [];
    let after = 0;
    for (;;) {
      const p = await page(`?after=${after}&limit=2`);
      expect(p.status).toBe(200);
      expect(p.body.entries.length).toBeLessThanOrEqual(2);
      if (p.body.entries.length === 0) {
        expect(p.body.next).toBe(after);
        break;
      }
      walked.push(...p.body.entries.map((e) => e.seq));
      after = p.body.next;
    }
    expect(walked).toEqual(seqs);
    expect((await page(`?after=${seqs[0]}&limit=1`)).body.entries.map((e) => e.seq)).toEqual([seqs[1]]);

    // After the root is posted, the same entries come back with it, and each proves against it.
    await f.gateways[1]!.postLogRoots();
    const rooted = await page(`?after=0&limit=1000`);
    expect(rooted.body.entries.map((e) => e.seq)).toEqual(seqs);
    for (const e of rooted.body.entries) {
      expect(e.batchRoot).toMatch(/^0x[0-9a-f]{64}$/);
      expect(verifyLogEntry(e, e.batchRoot!, e.proof!)).toBe(true);
      expect(await client().readContract({ address: c().ReleaseCommittee.address, abi: releaseCommitteeAbi, functionName: 'wasPostedBy', args: [e.batchRoot!, g.member] })).toBe(true);
    }

    for (const bad of ['?after=-1', '?after=x', '?limit=0', '?limit=1001', '?limit=2.5', '?after=']) {
      const r = await page(bad);
      expect(r.status, bad).toBe(400);
      expect(r.body.error?.code).toBe('BAD_REQUEST');
      expect(r.body.error?.message).toMatch(/after|limit/);
    }
  });

  it('refuses the release in the block right after a revocation, though the block before was answered from the per-block cache', async () => {
    // Several releases against the same head: the chain's answers for it are cached and shared.
    await Promise.all([fetchKey(labId), fetchKey(labId), fetchKey(labId)]);
    const before = await client().getBlockNumber({ cacheTime: 0 });
    await f.send(f.patient.privateKey, c().AccessGrants.address, accessGrantsAbi, 'revoke', [clinic.address]);
    expect(await client().getBlockNumber({ cacheTime: 0 })).toBe(before + 1n);
    const refused = await fetchKey(labId).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ReleaseRefusedError);
    expect((refused as ReleaseRefusedError).code).toBe('NO_GRANT');
    expect((refused as ReleaseRefusedError).failures).toHaveLength(3);
    // Granted again in a later block: released again (a refusal is not cached past its block).
    await f.send(clinic.privateKey, c().AccessGrants.address, accessGrantsAbi, 'requestAccess', [f.patient.address, categoryMask(['labs']), 0, 30 * DAY]);
    const id = await client().readContract({ address: c().AccessGrants.address, abi: accessGrantsAbi, functionName: 'requestCount' });
    await f.send(f.patient.privateKey, c().AccessGrants.address, accessGrantsAbi, 'approve', [id, categoryMask(['labs']), 7 * DAY]);
    expect((await fetchKey(labId)).releasedBy.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses after revocation, and after expiry', async () => {
    await f.send(f.patient.privateKey, c().AccessGrants.address, accessGrantsAbi, 'revoke', [clinic.address]);
    const revoked = await fetchKey(labId).catch((e: unknown) => e);
    expect((revoked as ReleaseRefusedError).code).toBe('NO_GRANT');
    await f.send(clinic.privateKey, c().AccessGrants.address, accessGrantsAbi, 'requestAccess', [f.patient.address, categoryMask(['labs']), 0, 30 * DAY]);
    const id = await client().readContract({ address: c().AccessGrants.address, abi: accessGrantsAbi, functionName: 'requestCount' });
    await f.send(f.patient.privateKey, c().AccessGrants.address, accessGrantsAbi, 'approve', [id, categoryMask(['labs']), 7 * DAY]);
    expect((await fetchKey(labId)).releasedBy.length).toBeGreaterThanOrEqual(2);
    await client().request({ method: 'evm_increaseTime' as never, params: [8 * DAY] as never });
    await client().request({ method: 'evm_mine' as never, params: [] as never });
    const expired = await fetchKey(labId).catch((e: unknown) => e);
    expect((expired as ReleaseRefusedError).code).toBe('GRANT_EXPIRED');
  });
});
