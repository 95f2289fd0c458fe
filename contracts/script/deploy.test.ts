import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessGrantsAbi,
  consentTokenAbi,
  erc2771ForwarderAbi,
  eligibilityVerifierAbi,
  issuerRegistryAbi,
  organizationRegistryAbi,
  patientRegistryAbi,
  releaseCommitteeAbi,
  studyRegistryAbi,
} from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { REPO_ROOT } from '@consentry/sdk/config';
import { readDeployment } from '@consentry/sdk/deployment';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { issuerKeyFromSecret, issuerLeaf } from '@consentry/sdk/zk/credential';
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

  it('wires the eligibility contracts: PoseidonT3 linked into IssuerRegistry, StudyRegistry a consumer', async () => {
    const d = readDeployment(31337, dir);
    const client = publicClientFor(anvil.rpcUrl, 31337);
    const deployer = ANVIL_ACCOUNTS[0]!.address;
    const issuers = d.contracts.IssuerRegistry!.address;
    const verifier = d.contracts.EligibilityVerifier!.address;
    const studies = d.contracts.StudyRegistry!.address;
    expect(await client.getCode({ address: issuers })).toContain(d.contracts.PoseidonT3!.address.slice(2).toLowerCase());
    expect(await client.readContract({ address: verifier, abi: eligibilityVerifierAbi, functionName: 'issuerRegistry' })).toBe(issuers);
    expect(await client.readContract({ address: verifier, abi: eligibilityVerifierAbi, functionName: 'groth16Verifier' })).toBe(
      d.contracts.EligibilityGroth16Verifier!.address,
    );
    expect(await client.readContract({ address: studies, abi: studyRegistryAbi, functionName: 'eligibilityVerifier' })).toBe(verifier);
    const consumer = await client.readContract({ address: verifier, abi: eligibilityVerifierAbi, functionName: 'CONSUMER_ROLE' });
    expect(await client.readContract({ address: verifier, abi: eligibilityVerifierAbi, functionName: 'hasRole', args: [consumer, studies] })).toBe(true);
    const accreditor = await client.readContract({ address: issuers, abi: issuerRegistryAbi, functionName: 'ISSUER_ACCREDITOR_ROLE' });
    expect(await client.readContract({ address: issuers, abi: issuerRegistryAbi, functionName: 'hasRole', args: [accreditor, deployer] })).toBe(true);

    // The linked library hashes like the sdk (poseidon-lite): a one-issuer tree's root is its leaf.
    const key = issuerKeyFromSecret(new TextEncoder().encode('deploy-test-issuer'));
    const wallet = walletClientFor(anvil.rpcUrl, 31337, privateKey);
    const hash = await wallet.writeContract({ address: issuers, abi: issuerRegistryAbi, functionName: 'addIssuer', args: [...key.publicKey], gas: 400_000n });
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success');
    expect(await client.readContract({ address: issuers, abi: issuerRegistryAbi, functionName: 'root' })).toBe(issuerLeaf(key.publicKey));
  });

  it('wires the marketplace: the forwarder, the consent token minted by StudyRegistry, the IRB registry, the test token', async () => {
    const d = readDeployment(31337, dir);
    const client = publicClientFor(anvil.rpcUrl, 31337);
    const deployer = ANVIL_ACCOUNTS[0]!.address;
    const forwarder = d.contracts.Forwarder!.address;
    const token = d.contracts.ConsentToken!.address;
    const studies = d.contracts.StudyRegistry!.address;
    const domain = await client.readContract({ address: forwarder, abi: erc2771ForwarderAbi, functionName: 'eip712Domain' });
    expect(domain[1]).toBe('Consentry Forwarder');
    expect(await client.readContract({ address: studies, abi: studyRegistryAbi, functionName: 'isTrustedForwarder', args: [forwarder] })).toBe(true);
    expect(await client.readContract({ address: studies, abi: studyRegistryAbi, functionName: 'consentToken' })).toBe(token);
    expect(await client.readContract({ address: studies, abi: studyRegistryAbi, functionName: 'organizationRegistry' })).toBe(
      d.contracts.OrganizationRegistry!.address,
    );
    expect(await client.readContract({ address: token, abi: consentTokenAbi, functionName: 'isTrustedForwarder', args: [forwarder] })).toBe(true);
    const minter = await client.readContract({ address: token, abi: consentTokenAbi, functionName: 'MINTER_ROLE' });
    expect(await client.readContract({ address: token, abi: consentTokenAbi, functionName: 'hasRole', args: [minter, studies] })).toBe(true);
    expect(await client.readContract({ address: token, abi: consentTokenAbi, functionName: 'hasRole', args: [`0x${'00'.repeat(32)}`, deployer] })).toBe(true);
    expect(d.contracts.TestToken).toBeDefined();
    if (d.contracts.StudyMarket) {
      expect(await client.readContract({ address: token, abi: consentTokenAbi, functionName: 'hooks' })).toBe(d.contracts.StudyMarket.address);
    }
  });

  it('is idempotent: a second run reuses the deployment on the chain (immutables and linked libraries included)', async () => {
    const first = readDeployment(31337, dir);
    const again = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey, chainId: 31337, deploymentsDir: dir });
    expect(again.deployed).toBe(false);
    expect(again.contracts).toEqual(first.contracts);
  });

  it('deploys IssuerRegistry, and what names it, again when PoseidonT3 is deployed again, and nothing else', async () => {
    const first = readDeployment(31337, dir);
    const file = join(dir, '31337.json');
    const edited = JSON.parse(readFileSync(file, 'utf8'));
    edited.contracts.PoseidonT3.address = '0x000000000000000000000000000000000000dEaD';
    writeFileSync(file, JSON.stringify(edited));
    const lines: string[] = [];
    const again = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey, chainId: 31337, deploymentsDir: dir, log: (l) => lines.push(l) });
    expect(again.deployed).toBe(true);
    for (const name of ['PoseidonT3', 'IssuerRegistry', 'EligibilityVerifier', 'StudyRegistry'] as const) {
      expect(again.contracts[name]!.address).not.toBe(first.contracts[name]!.address);
    }
    for (const name of ['PatientRegistry', 'AccessGrants', 'EligibilityGroth16Verifier'] as const) {
      expect(again.contracts[name]!.address).toBe(first.contracts[name]!.address);
    }
    expect(lines).toContain(`IssuerRegistry names PoseidonT3, which was deployed again: deploying it again`);
    expect(lines.some((l) => l.startsWith('granted StudyRegistry'))).toBe(true);
    const client = publicClientFor(anvil.rpcUrl, 31337);
    const verifier = again.contracts.EligibilityVerifier!.address;
    const consumer = await client.readContract({ address: verifier, abi: eligibilityVerifierAbi, functionName: 'CONSUMER_ROLE' });
    expect(
      await client.readContract({ address: verifier, abi: eligibilityVerifierAbi, functionName: 'hasRole', args: [consumer, again.contracts.StudyRegistry!.address] }),
    ).toBe(true);
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

  it.skipIf(!existsSync(join(REPO_ROOT, 'contracts', 'src', 'StudyMarket.sol')))(
    'a market deployed again gets a fresh ConsentToken (its hooks are set once), and what names the token with it',
    async () => {
      const first = readDeployment(31337, dir);
      const file = join(dir, '31337.json');
      const edited = JSON.parse(readFileSync(file, 'utf8'));
      edited.contracts.StudyMarket.address = '0x000000000000000000000000000000000000dEaD';
      writeFileSync(file, JSON.stringify(edited));
      const lines: string[] = [];
      const again = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey, chainId: 31337, deploymentsDir: dir, log: (l) => lines.push(l) });
      expect(lines.some((l) => l.startsWith('ConsentToken calls an older StudyMarket'))).toBe(true);
      for (const name of ['ConsentToken', 'StudyRegistry', 'StudyMarket'] as const) {
        expect(again.contracts[name]!.address).not.toBe(first.contracts[name]!.address);
      }
      expect(again.contracts.Forwarder!.address).toBe(first.contracts.Forwarder!.address);
      const client = publicClientFor(anvil.rpcUrl, 31337);
      expect(await client.readContract({ address: again.contracts.ConsentToken!.address, abi: consentTokenAbi, functionName: 'hooks' })).toBe(
        again.contracts.StudyMarket!.address,
      );
    },
  );

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
