// Release gateways end to end on a real anvil chain with the deployed contracts: a clinician asks,
// the patient approves labs (not mental-health) for 7 days, three gateways (k = 2) release the lab
// record's key and refuse the mental-health one; replayed and forged requests are refused by every
// gateway; one gateway down still works, two down is a clear "committee unavailable"; a release
// survives the gateway's restart in its log; revocation and expiry refuse; an insurer is refused by
// the patient's policy before the request exists; the log's root is posted and every entry proves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, keccak256, toHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts, type DeployResult } from '../../../contracts/script/deploy.ts';
import { accessGrantsAbi, organizationRegistryAbi, patientRegistryAbi, releaseCommitteeAbi } from '@consentry/sdk/abi/generated';
import { fetchDataKey, readCommittee, releaseTypedData, ReleaseRefusedError, type GatewayRef } from '@consentry/sdk/access/release';
import { createFsBlobStore } from '@consentry/sdk/blobs/fs';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { decryptRecord } from '@consentry/sdk/crypto/envelope';
import { CommitteeUnavailableError } from '@consentry/sdk/crypto/shares';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { categoryMask } from '@consentry/sdk/records/categories';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { RecordsService } from '../records/service.ts';
import { Vault } from '../records/vault.ts';
import { createGateway, verifyLogEntry, type Gateway } from './gateway.ts';
import { startGatewayServer, type GatewayServer } from './server.ts';

const CHAIN = 31337;
const deployer = ANVIL_ACCOUNTS[0]!;
const patientAcct = ANVIL_ACCOUNTS[1]!;
const clinicAcct = ANVIL_ACCOUNTS[2]!;
const insurerAcct = ANVIL_ACCOUNTS[3]!;
const memberAccts = ANVIL_ACCOUNTS.slice(4, 7);
const DAY = 86_400;

const lab = { resourceType: 'Observation', id: 'hba1c-1', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] }, valueQuantity: { value: 7.2, unit: '%' } } as FhirResource;
const mental = { resourceType: 'Condition', id: 'dep-1', subject: { reference: 'Patient/p' }, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'F32.9' }] } } as FhirResource;

let anvil: AnvilInstance;
let deployment: DeployResult;
let vault: Vault;
let dir: string;
const memberSecrets = memberAccts.map(() => randomBytes(32));
const gateways: Gateway[] = [];
const servers: GatewayServer[] = [];
let refs: GatewayRef[];
let records: RecordsService;
const clinicKeys = (() => {
  const secretKey = randomBytes(32);
  return { secretKey, publicKeyHex: bytesToHex(x25519.getPublicKey(secretKey)) as Hex };
})();

const client = () => publicClientFor(anvil.rpcUrl, CHAIN);
async function send(privateKey: Hex, address: Address, abi: readonly unknown[], functionName: string, args: readonly unknown[]) {
  const wallet = walletClientFor(anvil.rpcUrl, CHAIN, privateKey);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const hash = await wallet.writeContract({ address, abi: abi as any, functionName, args: args as any, gas: 1_000_000n });
  const receipt = await client().waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return receipt;
}
const c = () => deployment.contracts as Required<typeof deployment.contracts>;

async function openGateway(i: number, port = 0): Promise<void> {
  const blobs = await createFsBlobStore(join(dir, 'blobs'));
  gateways[i] = createGateway({ memberPrivateKey: memberAccts[i]!.privateKey, memberSecretKey: memberSecrets[i]!, vault, blobs, rpcUrl: anvil.rpcUrl, deployment, logFile: join(dir, `gateway-${i}.sqlite`) });
  servers[i] = await startGatewayServer(gateways[i]!, { port });
}
async function stopGateway(i: number): Promise<void> {
  await servers[i]!.close();
  gateways[i]!.close();
}

const sign = (typed: ReturnType<typeof releaseTypedData>) => privateKeyToAccount(clinicAcct.privateKey).signTypedData(typed);
const fetchKey = (recordId: Hex, gatewaysUp: GatewayRef[] = refs) =>
  readCommittee(client(), c().ReleaseCommittee.address).then((committee) =>
    fetchDataKey({ gateways: gatewaysUp, committee, chainId: CHAIN, verifyingContract: c().AccessGrants.address, requester: clinicAcct.address, requesterKeys: clinicKeys, sign, patient: patientAcct.address, recordId, version: 1 }),
  );
let labId: Hex;
let mentalId: Hex;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-gateway-'));
  anvil = await startAnvil();
  deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: CHAIN, deploymentsDir: dir });
  // The committee: three members, k = 2.
  for (const [i, m] of memberAccts.entries()) {
    await send(deployer.privateKey, c().ReleaseCommittee.address, releaseCommitteeAbi, 'addMember', [m.address, bytesToHex(x25519.getPublicKey(memberSecrets[i]!)), i === 2 ? 2 : 1]);
  }
  // The patient registers, imports a lab result and a mental-health condition, and shares them.
  const patientKeys = deriveEncryptionKeyPair(await privateKeyToAccount(patientAcct.privateKey).signTypedData(keyDerivationTypedData(CHAIN)));
  await send(patientAcct.privateKey, c().PatientRegistry.address, patientRegistryAbi, 'register', [patientKeys.publicKeyHex]);
  vault = await Vault.open({ dataDir: dir });
  records = new RecordsService({ vault, blobs: await createFsBlobStore(join(dir, 'blobs')), patient: patientAcct.address, keys: patientKeys });
  await records.importResources([lab, mental]);
  const committee = await readCommittee(client(), c().ReleaseCommittee.address);
  expect(committee).toMatchObject({ threshold: 2 });
  expect(await records.shareWithCommittee(committee)).toBe(2);
  const listed = await records.list();
  labId = listed.find((r) => r.category === 'labs')!.recordId;
  mentalId = listed.find((r) => r.category === 'mental-health')!.recordId;
  // A clinic and an insurer, both accredited.
  for (const [acct, kind] of [[clinicAcct, 0], [insurerAcct, 3]] as const) {
    await send(acct.privateKey, c().OrganizationRegistry.address, organizationRegistryAbi, 'register', [kind, keccak256(toHex(`org-${kind}`)), keccak256(toHex('meta'))]);
    await send(deployer.privateKey, c().OrganizationRegistry.address, organizationRegistryAbi, 'accredit', [acct.address, BigInt(Math.floor(Date.now() / 1000) + 365 * DAY)]);
  }
  for (let i = 0; i < 3; i++) await openGateway(i);
  refs = memberAccts.map((m, i) => ({ url: servers[i]!.url, member: m.address }));
}, 180_000);

afterAll(async () => {
  for (let i = 0; i < servers.length; i++) await stopGateway(i).catch(() => undefined);
  await vault?.close();
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('release gateways (3 members, k = 2, real chain)', () => {
  it('refuses an insurer by the patient\'s policy before any request exists', async () => {
    await send(patientAcct.privateKey, c().AccessGrants.address, accessGrantsAbi, 'setPolicy', [0, 1 << 3]);
    const wallet = walletClientFor(anvil.rpcUrl, CHAIN, insurerAcct.privateKey);
    await expect(
      wallet.writeContract({ address: c().AccessGrants.address, abi: accessGrantsAbi, functionName: 'requestAccess', args: [patientAcct.address, categoryMask(['labs']), 2, 30 * DAY], gas: 500_000n }).then((hash) => client().waitForTransactionReceipt({ hash })),
    ).resolves.toMatchObject({ status: 'reverted' });
    expect(await client().readContract({ address: c().AccessGrants.address, abi: accessGrantsAbi, functionName: 'requestCount' })).toBe(0n);
  });

  it('releases labs under the grant, refuses mental-health, and decrypts in the requester\'s hands', async () => {
    await send(clinicAcct.privateKey, c().AccessGrants.address, accessGrantsAbi, 'requestAccess', [patientAcct.address, categoryMask(['labs', 'mental-health']), 0, 30 * DAY]);
    await send(patientAcct.privateKey, c().AccessGrants.address, accessGrantsAbi, 'approve', [1n, categoryMask(['labs']), 7 * DAY]);
    const got = await fetchKey(labId);
    expect(got.releasedBy.length).toBeGreaterThanOrEqual(2);
    const plaintext = decryptRecord({ ciphertext: got.ciphertext, dek: got.dek, recordId: labId, version: 1, category: 'labs' });
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual(lab);
    const refused = await fetchKey(mentalId).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ReleaseRefusedError);
    expect((refused as ReleaseRefusedError).code).toBe('CATEGORY_NOT_COVERED');
    expect((refused as ReleaseRefusedError).failures).toHaveLength(3);
  });

  it('refuses a replayed request and a forged one at every gateway', async () => {
    const base = { requester: clinicAcct.address, requesterKey: clinicKeys.publicKeyHex, patient: patientAcct.address, recordId: labId, version: 1, nonce: keccak256(toHex('once')), expiresAt: Math.floor(Date.now() / 1000) + 60 };
    for (const [i, ref] of refs.entries()) {
      const request = { ...base, gateway: ref.member, nonce: keccak256(toHex(`once-${i}`)) };
      const body = JSON.stringify({ request, signature: await sign(releaseTypedData(CHAIN, c().AccessGrants.address, request)) });
      const post = () => fetch(`${ref.url}/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: string } } }));
      expect((await post()).status).toBe(200);
      expect(await post()).toMatchObject({ status: 409, body: { error: { code: 'REPLAYED' } } });
      const forgedSig = await privateKeyToAccount(insurerAcct.privateKey).signTypedData(releaseTypedData(CHAIN, c().AccessGrants.address, { ...request, nonce: keccak256(toHex(`forged-${i}`)) }));
      const forged = await fetch(`${ref.url}/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: { ...request, nonce: keccak256(toHex(`forged-${i}`)) }, signature: forgedSig }) });
      expect(forged.status).toBe(401);
      expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('BAD_SIGNATURE');
    }
  });

  it('works with one gateway down; with two down says the committee is unavailable and names them', async () => {
    await stopGateway(0);
    expect((await fetchKey(labId)).releasedBy.sort()).toEqual([refs[1]!.member.toLowerCase(), refs[2]!.member.toLowerCase()].sort());
    await stopGateway(1);
    const err = await fetchKey(labId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitteeUnavailableError);
    expect((err as Error).message).toMatch(/Committee unavailable: 1 of the 2 shares/);
    expect((err as CommitteeUnavailableError).missing.sort()).toEqual([refs[0]!.member.toLowerCase(), refs[1]!.member.toLowerCase()].sort());
    await openGateway(0, Number(new URL(refs[0]!.url).port));
    await openGateway(1, Number(new URL(refs[1]!.url).port));
  });

  it('keeps every release in the log across a restart, posts the root on chain, and each entry proves', async () => {
    const before = gateways[2]!.log().length;
    await fetchKey(labId);
    const released = gateways[2]!.log();
    expect(released.length).toBeGreaterThan(before);
    await stopGateway(2); // as if killed right after the release
    await openGateway(2, Number(new URL(refs[2]!.url).port));
    expect(gateways[2]!.log().map((e) => e.id)).toEqual(released.map((e) => e.id));
    expect(await gateways[2]!.postLogRoots()).toBe(released.length);
    const entries = gateways[2]!.log();
    const root = entries[0]!.batchRoot as Hex;
    expect(await client().readContract({ address: c().ReleaseCommittee.address, abi: releaseCommitteeAbi, functionName: 'wasPostedBy', args: [root, refs[2]!.member] })).toBe(true);
    for (const e of entries) expect(verifyLogEntry(e, root, JSON.parse(e.proof!))).toBe(true);
    expect(verifyLogEntry({ ...entries[0]!, version: 2 }, root, JSON.parse(entries[0]!.proof!))).toBe(false);
    expect(entries.every((e) => e.requester === clinicAcct.address.toLowerCase() && e.category === 'labs')).toBe(true);
  });

  it('refuses after revocation, and after expiry', async () => {
    await send(patientAcct.privateKey, c().AccessGrants.address, accessGrantsAbi, 'revoke', [clinicAcct.address]);
    const revoked = await fetchKey(labId).catch((e: unknown) => e);
    expect((revoked as ReleaseRefusedError).code).toBe('NO_GRANT');
    await send(clinicAcct.privateKey, c().AccessGrants.address, accessGrantsAbi, 'requestAccess', [patientAcct.address, categoryMask(['labs']), 0, 30 * DAY]);
    await send(patientAcct.privateKey, c().AccessGrants.address, accessGrantsAbi, 'approve', [2n, categoryMask(['labs']), 7 * DAY]);
    expect((await fetchKey(labId)).releasedBy.length).toBeGreaterThanOrEqual(2);
    await client().request({ method: 'evm_increaseTime' as never, params: [8 * DAY] as never });
    await client().request({ method: 'evm_mine' as never, params: [] as never });
    const expired = await fetchKey(labId).catch((e: unknown) => e);
    expect((expired as ReleaseRefusedError).code).toBe('GRANT_EXPIRED');
  });
});
