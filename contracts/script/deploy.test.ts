import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
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

  it('is idempotent: a second run reuses the deployment on the chain', async () => {
    const first = readDeployment(31337, dir);
    const again = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey, chainId: 31337, deploymentsDir: dir });
    expect(again.deployed).toBe(false);
    expect(again.contracts.PatientRegistry.address).toBe(first.contracts.PatientRegistry.address);
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
