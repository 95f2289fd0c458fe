// The indexer and the access contracts (OrganizationRegistry, AccessGrants, ReleaseCommittee) on a
// real anvil, on every store kind: organisations, requests, grants, policies, break-glass windows
// and committee members, a reorg that puts every mutable one back as it was, GraphQL over them,
// and a deployment from before the access contracts.
import { accessGrantsAbi, organizationRegistryAbi, patientRegistryAbi, releaseCommitteeAbi } from '@consentry/sdk/abi/generated';
import { walletClientFor } from '@consentry/sdk/clients';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { keccak256, toHex, type Abi, type Address, type Hex } from 'viem';
import { graphql } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../db/store.ts';
import { dumpEntities } from './dump.ts';
import { loadEntityModels } from './entities.ts';
import { buildGraphQLSchema } from './graphql/schema.ts';
import { createIndexer } from './indexer.ts';
import { startTestChain, testKey, type TestChain } from './testing/chain.ts';
import { storeKinds } from './testing/stores.ts';

let chain: TestChain;

beforeAll(async () => {
  chain = await startTestChain();
}, 30_000);

afterAll(async () => {
  await chain?.stop();
});

const admin = ANVIL_ACCOUNTS[0]!;
const patient = ANVIL_ACCOUNTS[1]!;
const clinic = ANVIL_ACCOUNTS[2]!;
const emergency = ANVIL_ACCOUNTS[3]!;
const member = ANVIL_ACCOUNTS[4]!;
const label = (text: string): Hex => keccak256(toHex(`access-test:${text}`));
const lower = (a: Address) => a.toLowerCase();
const pair = (a: Address, b: Address) => `${lower(a)}${lower(b).slice(2)}`;

describe.each(storeKinds())('indexer with the access contracts on $name', (kind) => {
  let deployment: Awaited<ReturnType<TestChain['deploy']>>;
  const stores: Store[] = [];

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  afterAll(async () => {
    await kind.cleanup();
  });

  async function send(from: Hex, address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Promise<void> {
    const wallet = walletClientFor(chain.rpcUrl, 31337, from);
    const hash = await wallet.writeContract({ address, abi, functionName, args } as Parameters<typeof wallet.writeContract>[0]);
    const receipt = await chain.client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`${functionName} reverted`);
  }

  beforeAll(async () => {
    deployment = await chain.deploy();
    const c = deployment.contracts;
    const now = Number((await chain.client.getBlock()).timestamp);
    await send(patient.privateKey, c.PatientRegistry.address, patientRegistryAbi, 'register', [testKey(`${kind.name}:p`)]);
    await send(clinic.privateKey, c.OrganizationRegistry!.address, organizationRegistryAbi, 'register', [0, label('clinic'), label('m')]);
    await send(emergency.privateKey, c.OrganizationRegistry!.address, organizationRegistryAbi, 'register', [1, label('er'), label('m')]);
    for (const org of [clinic, emergency]) {
      await send(admin.privateKey, c.OrganizationRegistry!.address, organizationRegistryAbi, 'accredit', [org.address, BigInt(now + 86_400 * 30)]);
    }
    await send(clinic.privateKey, c.AccessGrants!.address, accessGrantsAbi, 'requestAccess', [patient.address, 0x0007, 0, 86_400]);
    await send(patient.privateKey, c.AccessGrants!.address, accessGrantsAbi, 'approve', [1n, 0x0005, 3_600]);
  }, 60_000);

  async function open(): Promise<Store> {
    const store = await kind.open();
    stores.push(store);
    return store;
  }

  it('indexes organisations, requests and grants; a reorg puts every mutable entity back', async () => {
    const c = deployment.contracts;
    const store = await open();
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0 });
    await indexer.syncToHead();
    const state = await store.readState();
    expect(state?.accessGrantsAddress).toBe(lower(c.AccessGrants!.address));
    expect(state?.organizationRegistryAddress).toBe(lower(c.OrganizationRegistry!.address));
    expect(state?.releaseCommitteeAddress).toBe(lower(c.ReleaseCommittee!.address));
    const grantId = pair(patient.address, clinic.address);
    expect(await store.findById('Grant', grantId)).toMatchObject({ categories: 0x0005, requestId: 1n, revoked: false });
    expect(await store.findById('Organization', lower(clinic.address))).toMatchObject({ kind: 0, accredited: true });
    const before = await dumpEntities(store);
    expect(before.AccessRequest.map((r) => r.status)).toEqual(['APPROVED']);

    // On a branch that will be dropped: every mutable entity changes or appears.
    const snapshot = await chain.rpc<string>('evm_snapshot');
    await send(patient.privateKey, c.AccessGrants!.address, accessGrantsAbi, 'revoke', [clinic.address]);
    await send(patient.privateKey, c.AccessGrants!.address, accessGrantsAbi, 'setPolicy', [0x1000, 0]);
    await send(clinic.privateKey, c.AccessGrants!.address, accessGrantsAbi, 'requestAccess', [patient.address, 0x0001, 0, 600]);
    await send(patient.privateKey, c.AccessGrants!.address, accessGrantsAbi, 'deny', [2n]);
    await send(emergency.privateKey, c.AccessGrants!.address, accessGrantsAbi, 'breakGlass', [patient.address, label('why'), 0]);
    await send(clinic.privateKey, c.OrganizationRegistry!.address, organizationRegistryAbi, 'update', [label('clinic 2'), label('m2')]);
    await send(admin.privateKey, c.ReleaseCommittee!.address, releaseCommitteeAbi, 'addMember', [member.address, testKey(`${kind.name}:m`), 1]);
    await send(member.privateKey, c.ReleaseCommittee!.address, releaseCommitteeAbi, 'postLogRoot', [label('root'), 5]);
    await indexer.syncToHead();
    expect(await store.findById('Grant', grantId)).toMatchObject({ revoked: true });
    expect(await store.findById('PatientPolicy', lower(patient.address))).toMatchObject({ neverShare: 0x1000 });
    expect(await store.findById('BreakGlass', pair(patient.address, emergency.address))).toMatchObject({ openings: 1, closed: false });
    expect(await store.findById('CommitteeMember', lower(member.address))).toMatchObject({ active: true });
    expect(await store.count('LogRoot')).toBe(1);
    expect(await store.count('AccessEvent')).toBe(before.AccessEvent.length + 4);

    expect(await chain.rpc('evm_revert', [snapshot])).toBe(true);
    await chain.rpc('anvil_mine', ['0xc']); // a longer branch without those transactions
    const status = await indexer.syncToHead();
    expect(status.reorgs).toBeGreaterThanOrEqual(1);
    expect(await dumpEntities(store)).toEqual(before);
  });

  it('serves the access entities over GraphQL (filters on Bytes, String and Boolean fields)', async () => {
    const store = await open();
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0 });
    await indexer.syncToHead();
    const schema = buildGraphQLSchema({
      models: loadEntityModels().models,
      store,
      meta: () => ({ checkpoint: indexer.status().checkpoint, hasIndexingErrors: false, deployment: 'test' }),
    });
    const result = await graphql({
      schema,
      source: `query ($patient: Bytes!) {
        grants(where: { patient: $patient, revoked: false }) { grantee categories purpose requestId expiresAt }
        accessRequests(where: { status: "APPROVED" }) { requestId approvedCategories duration }
        accessEvents(where: { patient: $patient }, orderBy: blockNumber) { kind organization actor requestId categories reasonHash }
        organizations(orderBy: kind) { id kind accredited accreditedUntil }
      }`,
      variableValues: { patient: lower(patient.address) },
    });
    expect(result.errors).toBeUndefined();
    const data = result.data as {
      grants: Array<Record<string, unknown>>;
      accessRequests: Array<Record<string, unknown>>;
      accessEvents: Array<Record<string, unknown>>;
      organizations: Array<Record<string, unknown>>;
    };
    expect(data.grants).toEqual([
      expect.objectContaining({ grantee: lower(clinic.address), categories: 0x0005, purpose: 0, requestId: '1' }),
    ]);
    expect(data.accessRequests).toEqual([{ requestId: '1', approvedCategories: 0x0005, duration: '86400' }]);
    expect(data.accessEvents.map((e) => e.kind)).toEqual(['REQUEST_CREATED', 'REQUEST_APPROVED']);
    expect(data.accessEvents[1]).toMatchObject({ actor: lower(patient.address), categories: 0x0005, reasonHash: null });
    expect(data.organizations.map((o) => [o.id, o.kind, o.accredited])).toEqual([
      [lower(clinic.address), 0, true],
      [lower(emergency.address), 1, true],
    ]);
  });

  it('without the access contracts in the deployment, follows the others alone', async () => {
    const store = await open();
    const { OrganizationRegistry: _o, AccessGrants: _a, ReleaseCommittee: _r, ...contracts } = deployment.contracts;
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment: { ...deployment, contracts }, store, confirmations: 0 });
    await indexer.syncToHead();
    expect(await store.count('Patient')).toBe(1);
    expect(await store.count('Organization')).toBe(0);
    expect(await store.count('AccessEvent')).toBe(0);
    expect((await store.readState())?.accessGrantsAddress).toBeNull();
  });
});
