import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessGrantsAbi,
  organizationRegistryAbi,
  patientRegistryAbi,
  releaseCommitteeAbi,
} from '@consentry/sdk/abi/generated';
import { publicClientFor } from '@consentry/sdk/clients';
import { readDeployment } from '@consentry/sdk/deployment';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deployContracts } from './deploy.ts';

describe('deployContracts', () => {
  let anvil: AnvilInstance;
  const dir = mkdtempSync(join(tmpdir(), 'consentry-deploy-'));
  const privateKey = ANVIL_ACCOUNTS[0]!.privateKey;

  beforeAll(async () => {
    anvil = await startAnvil();
  });
  afterAll(async () => {
    await anvil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys, writes deployments/<chainId>.json, and the contract answers', async () => {
    const result = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey, chainId: 31337, deploymentsDir: dir });
    expect(result.deployed).toBe(true);
    const onDisk = JSON.parse(readFileSync(join(dir, '31337.json'), 'utf8'));
    expect(onDisk.contracts.PatientRegistry.address).toBe(result.contracts.PatientRegistry.address);
    expect(readDeployment(31337, dir).startBlock).toBe(result.startBlock);
    const client = publicClientFor(anvil.rpcUrl, 31337);
    const count = await client.readContract({
      address: result.contracts.PatientRegistry.address,
      abi: patientRegistryAbi,
      functionName: 'patientCount',
    });
    expect(count).toBe(0n);
  });

  it('wires the access contracts: AccessGrants names both registries, the deployer holds the roles', async () => {
    const d = readDeployment(31337, dir);
    const client = publicClientFor(anvil.rpcUrl, 31337);
    const deployer = ANVIL_ACCOUNTS[0]!.address;
    const grants = d.contracts.AccessGrants!.address;
    const orgs = d.contracts.OrganizationRegistry!.address;
    expect(await client.readContract({ address: grants, abi: accessGrantsAbi, functionName: 'patientRegistry' })).toBe(
      d.contracts.PatientRegistry.address,
    );
    expect(
      await client.readContract({ address: grants, abi: accessGrantsAbi, functionName: 'organizationRegistry' }),
    ).toBe(orgs);
    const role = await client.readContract({ address: orgs, abi: organizationRegistryAbi, functionName: 'ACCREDITOR_ROLE' });
    expect(
      await client.readContract({ address: orgs, abi: organizationRegistryAbi, functionName: 'hasRole', args: [role, deployer] }),
    ).toBe(true);
    expect(
      await client.readContract({
        address: orgs,
        abi: organizationRegistryAbi,
        functionName: 'hasRole',
        args: [`0x${'00'.repeat(32)}`, deployer],
      }),
    ).toBe(true);
    const committee = d.contracts.ReleaseCommittee!.address;
    expect(await client.readContract({ address: committee, abi: releaseCommitteeAbi, functionName: 'owner' })).toBe(deployer);
    expect(await client.readContract({ address: committee, abi: releaseCommitteeAbi, functionName: 'epoch' })).toBe(0n);
  });

  it('is idempotent: a second run reuses the deployment on the chain (immutables included)', async () => {
    const first = readDeployment(31337, dir);
    const again = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey, chainId: 31337, deploymentsDir: dir });
    expect(again.deployed).toBe(false);
    expect(again.contracts.PatientRegistry.address).toBe(first.contracts.PatientRegistry.address);
    expect(again.contracts.AccessGrants!.address).toBe(first.contracts.AccessGrants!.address);
  });

  it('deploys AccessGrants again when a registry it names is deployed again, and nothing else', async () => {
    const first = readDeployment(31337, dir);
    const file = join(dir, '31337.json');
    const edited = JSON.parse(readFileSync(file, 'utf8'));
    edited.contracts.OrganizationRegistry.address = '0x000000000000000000000000000000000000dEaD';
    writeFileSync(file, JSON.stringify(edited));
    const lines: string[] = [];
    const again = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      privateKey,
      chainId: 31337,
      deploymentsDir: dir,
      log: (l) => lines.push(l),
    });
    expect(again.deployed).toBe(true);
    expect(again.contracts.OrganizationRegistry!.address).not.toBe(first.contracts.OrganizationRegistry!.address);
    expect(again.contracts.AccessGrants!.address).not.toBe(first.contracts.AccessGrants!.address);
    expect(again.contracts.PatientRegistry.address).toBe(first.contracts.PatientRegistry.address);
    expect(again.contracts.ReleaseCommittee!.address).toBe(first.contracts.ReleaseCommittee!.address);
    expect(lines.some((l) => l.includes('AccessGrants names OrganizationRegistry'))).toBe(true);
    const client = publicClientFor(anvil.rpcUrl, 31337);
    expect(
      await client.readContract({
        address: again.contracts.AccessGrants!.address,
        abi: accessGrantsAbi,
        functionName: 'organizationRegistry',
      }),
    ).toBe(again.contracts.OrganizationRegistry!.address);
  });

  it('deploys again when the recorded address has no code (a fresh chain)', async () => {
    const fresh = await startAnvil();
    try {
      const r = await deployContracts({ rpcUrl: fresh.rpcUrl, privateKey, chainId: 31337, deploymentsDir: dir });
      expect(r.deployed).toBe(true);
    } finally {
      await fresh.stop();
    }
  });

  it('refuses a chain whose id differs from CHAIN_ID', async () => {
    await expect(
      deployContracts({ rpcUrl: anvil.rpcUrl, privateKey, chainId: 1, deploymentsDir: dir }),
    ).rejects.toMatchObject({ code: 'CHAIN_ID_MISMATCH' });
  });

  it('says clearly when the RPC is unreachable', async () => {
    await expect(
      deployContracts({ rpcUrl: 'http://127.0.0.1:9', privateKey, chainId: 31337, deploymentsDir: dir }),
    ).rejects.toMatchObject({ code: 'RPC_UNREACHABLE' });
  });
});
