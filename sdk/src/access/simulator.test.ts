// The simulator's preparation on a real anvil chain: accounts past anvil's ten are funded with play
// money, the clinic, emergency provider and insurer register with the right kinds and are accredited
// by the local accreditor, and a second run sends nothing. The synthetic records are valid FHIR R4
// in the categories the walk-through relies on (labs, medications, mental-health).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWalletClient, http } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { chainFor, publicClientFor, walletClientFor } from '../clients.ts';
import { categorize } from '../records/categories.ts';
import { validateFhirResource } from '../records/fhir.ts';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '../testing/anvil.ts';
import { readOrganization, type AccessContracts } from './actions.ts';
import { ANVIL_MNEMONIC, fundOnLocalChain, organizationsReady, prepareOrganizations, SIMULATOR_ACCOUNTS, simulatorRecords } from './simulator.ts';

const CHAIN = 31337;
let anvil: AnvilInstance;
let dir: string;
let contracts: AccessContracts;

const wallet = (index: number) => createWalletClient({ account: mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }), chain: chainFor(CHAIN, anvil.rpcUrl), transport: http(anvil.rpcUrl) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-simulator-'));
  anvil = await startAnvil();
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: CHAIN, deploymentsDir: dir });
  contracts = { AccessGrants: d.contracts.AccessGrants!.address, OrganizationRegistry: d.contracts.OrganizationRegistry!.address };
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('access simulator preparation (real chain)', () => {
  it('funds, registers and accredits the organisations once; a second run sends nothing', async () => {
    const client = publicClientFor(anvil.rpcUrl, CHAIN);
    const organizations = { clinic: wallet(SIMULATOR_ACCOUNTS.clinic), emergency: wallet(SIMULATOR_ACCOUNTS.emergency), insurer: wallet(SIMULATOR_ACCOUNTS.insurer) };
    const addresses = { clinic: organizations.clinic.account.address, emergency: organizations.emergency.account.address, insurer: organizations.insurer.account.address };
    expect(await client.getBalance({ address: addresses.clinic })).toBe(0n);
    expect(await organizationsReady(client, contracts, addresses)).toBe(false);

    const accreditor = walletClientFor(anvil.rpcUrl, CHAIN, ANVIL_ACCOUNTS[0]!.privateKey);
    const steps = await prepareOrganizations({ client, contracts, accreditor, organizations });
    expect(steps.map((s) => `${s.role} ${s.action}`)).toEqual(['clinic registered', 'clinic accredited', 'emergency registered', 'emergency accredited', 'insurer registered', 'insurer accredited']);
    for (const s of steps) expect(s.result.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(steps[0]!.result.events.map((e) => e.eventName)).toContain('OrganizationRegistered');
    expect(await readOrganization(client, contracts, addresses.emergency)).toMatchObject({ registered: true, kind: 'emergency-provider', accredited: true });
    expect(await readOrganization(client, contracts, addresses.insurer)).toMatchObject({ kind: 'insurer', accredited: true });
    expect(await organizationsReady(client, contracts, addresses)).toBe(true);

    expect(await prepareOrganizations({ client, contracts, accreditor, organizations })).toEqual([]);
    expect(await fundOnLocalChain(client, addresses.clinic)).toBe(false);
  });

  it('refuses an accreditor that does not hold the role, in words', async () => {
    const client = publicClientFor(anvil.rpcUrl, CHAIN);
    const stranger = wallet(SIMULATOR_ACCOUNTS.patient);
    await fundOnLocalChain(client, stranger.account.address);
    const organizations = { clinic: wallet(20), emergency: wallet(SIMULATOR_ACCOUNTS.emergency), insurer: wallet(SIMULATOR_ACCOUNTS.insurer) };
    await expect(prepareOrganizations({ client, contracts, accreditor: stranger, organizations })).rejects.toThrow(/does not hold the role/);
  });

  it('makes three valid synthetic records (labs, medications, mental-health), new ids per run', () => {
    const a = simulatorRecords('run-1');
    const b = simulatorRecords('run-2');
    expect(categorize(a.lab)).toBe('labs');
    expect(categorize(a.medication)).toBe('medications');
    expect(categorize(a.mentalHealth)).toBe('mental-health');
    for (const r of [a.lab, a.medication, a.mentalHealth]) expect(validateFhirResource(r)).toEqual([]);
    expect(a.lab.id).not.toBe(b.lab.id);
    expect(() => simulatorRecords('no spaces/slashes')).toThrow(/run id/);
  });
});
