// `npm run demo` seeds the running stack: three registered patients, each with an encrypted
// synthetic history that the anchor worker then anchors; the Access Simulator's organisations are
// registered and accredited; the demo study gets three synthetic participants (real proofs, relayed,
// extracts stored); a second run adds nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnemonicToAccount } from 'viem/accounts';
import { patientRegistryAbi, studyMarketAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { readOrganization } from '@consentry/sdk/access/actions';
import { ANVIL_MNEMONIC, SIMULATOR_ACCOUNTS, SIMULATOR_ORGANIZATIONS } from '@consentry/sdk/access/simulator';
import { publicClientFor } from '@consentry/sdk/clients';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { Vault } from '../workers/src/records/vault.ts';
import { seedDemo } from './demo.ts';
import { startStack, type Stack } from './stack.ts';

describe('npm run demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consentry-demo-'));
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      ephemeralPorts: true,
      web: false, // seeding needs the chain, the contracts and the anchor worker, not the web app
      env: { RPC_URL: '', SUBGRAPH_URL: '', DATABASE_URL: '', CHAIN_ID: '31337', DATA_DIR: join(dir, 'data'), DEPLOYMENTS_DIR: join(dir, 'deployments'), LOG_LEVEL: 'warn', ANCHOR_INTERVAL_MS: '500' },
      log: () => {},
    });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers three patients with anchored synthetic records, and a second run adds nothing', async () => {
    const lines: string[] = [];
    await seedDemo(stack, (l) => lines.push(l));
    const client = publicClientFor(stack.rpcUrl, 31337);
    for (const { address } of ANVIL_ACCOUNTS.slice(7, 10)) {
      expect(await client.readContract({ address: stack.deployment.contracts.PatientRegistry.address, abi: patientRegistryAbi, functionName: 'isRegistered', args: [address] })).toBe(true);
    }
    expect(lines.filter((l) => /has \d+ synthetic records \((\d+) new\)/.test(l))).toHaveLength(3);
    const contracts = { AccessGrants: stack.deployment.contracts.AccessGrants!.address, OrganizationRegistry: stack.deployment.contracts.OrganizationRegistry!.address };
    for (const org of SIMULATOR_ORGANIZATIONS) {
      const address = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: SIMULATOR_ACCOUNTS[org.role] }).address;
      expect(await readOrganization(client, contracts, address)).toMatchObject({ registered: true, kind: org.kind, accredited: true });
    }
    expect(lines.filter((l) => /simulator .* (registered|accredited) \(tx 0x[0-9a-f]{64}\)/.test(l))).toHaveLength(6);
    const vault = await Vault.open({ dataDir: join(dir, 'data') });
    try {
      const patient = ANVIL_ACCOUNTS[7]!.address;
      const count = (await vault.versions(patient)).length;
      expect(count).toBeGreaterThan(5);
      await expect.poll(async () => (await vault.pending(1000)).length, { timeout: 30_000 }).toBe(0);
      const again: string[] = [];
      await seedDemo(stack, (l) => again.push(l));
      expect(again.filter((l) => l.includes('(0 new)'))).toHaveLength(3);
      expect(again.filter((l) => l.includes('already registered'))).toHaveLength(3);
      expect(again.filter((l) => l.includes('simulator organisations in place, accredited'))).toHaveLength(1);
      expect((await vault.versions(patient)).length).toBe(count);
      // Three synthetic participants enrolled in the demo study through the issuer and the relayer,
      // each extract stored for the committee (the hash on chain is an uploaded extract); not again.
      expect(lines.filter((l) => /synthetic participant 0x[0-9a-fA-F]{40} .* enrolled in study #1 through the relayer/.test(l))).toHaveLength(3);
      expect(again.filter((l) => l.includes('enrolled in study #1 through the relayer'))).toHaveLength(0);
      expect(again.filter((l) => l.includes('study #1 has 3 synthetic participants'))).toHaveLength(1);
      const c = stack.deployment.contracts;
      const client2 = publicClientFor(stack.rpcUrl, 31337);
      expect(await client2.readContract({ address: c.StudyMarket!.address, abi: studyMarketAbi, functionName: 'activeCountOf', args: [1n] })).toBe(3);
      const joined = await client2.getContractEvents({ address: c.StudyMarket!.address, abi: studyMarketAbi, eventName: 'HolderJoined', fromBlock: 0n });
      for (const e of joined) {
        const hash = await client2.readContract({ address: c.StudyRegistry!.address, abi: studyRegistryAbi, functionName: 'extractHashOf', args: [1n, e.args.holder!] });
        expect(await vault.extract(hash)).toMatchObject({ studyId: '1' });
      }
    } finally {
      await vault.close();
    }
  }, 120_000);

  it('starts a gateway again after kill -9, with the log it had', async () => {
    const gatewayUrl = stack.env.GATEWAY_URLS!.split(',')[0]!;
    const before = stack.processes().find((p) => p.name === 'gateway 1')!;
    type Feed = { member: string; entries: unknown[] };
    const feedBefore = (await (await fetch(`${gatewayUrl}/log`)).json()) as Feed;
    process.kill(before.pid!, 'SIGKILL');
    await expect.poll(() => fetch(`${gatewayUrl}/health`).then((r) => r.ok, () => false), { timeout: 30_000, interval: 250 }).toBe(false);
    await expect.poll(() => fetch(`${gatewayUrl}/health`).then((r) => r.ok, () => false), { timeout: 60_000, interval: 250 }).toBe(true);
    const after = stack.processes().find((p) => p.name === 'gateway 1')!;
    expect(after.pid).not.toBe(before.pid);
    const feedAfter = (await (await fetch(`${gatewayUrl}/log`)).json()) as Feed;
    expect(feedAfter.member).toBe(feedBefore.member);
    expect(feedAfter.entries).toEqual(feedBefore.entries);
  }, 120_000);
});
