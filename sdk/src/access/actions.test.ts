// The access actions against a real anvil chain with the deployed contracts: an organisation
// registers and is accredited, asks, the patient narrows and approves, revokes, sets a policy that
// refuses insurers (the refusal comes back decoded, in words, before any transaction), and an
// emergency provider breaks glass with only the reason's hash on chain.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { patientRegistryAbi } from '../abi/generated.ts';
import { publicClientFor, walletClientFor } from '../clients.ts';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '../testing/anvil.ts';
import {
  accreditOrganization,
  ActionRefusedError,
  approveRequest,
  breakGlass,
  readAccess,
  readOrganization,
  registerOrganization,
  requestAccess,
  revokeGrant,
  setPolicy,
  textHash,
  type AccessContracts,
  type ActionContext,
} from './actions.ts';

const CHAIN = 31337;
let anvil: AnvilInstance;
let dir: string;
let contracts: AccessContracts;
const [admin, patient, clinic, insurer, er] = [0, 1, 2, 3, 4].map((i) => ANVIL_ACCOUNTS[i]!) as [Account, Account, Account, Account, Account];
type Account = (typeof ANVIL_ACCOUNTS)[number];
const ctx = (who: { privateKey: `0x${string}` }): ActionContext => ({
  wallet: walletClientFor(anvil.rpcUrl, CHAIN, who.privateKey),
  client: publicClientFor(anvil.rpcUrl, CHAIN),
  contracts,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-actions-'));
  anvil = await startAnvil();
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: admin.privateKey, chainId: CHAIN, deploymentsDir: dir });
  contracts = { AccessGrants: d.contracts.AccessGrants!.address, OrganizationRegistry: d.contracts.OrganizationRegistry!.address };
  const wallet = walletClientFor(anvil.rpcUrl, CHAIN, patient.privateKey);
  const hash = await wallet.writeContract({ address: d.contracts.PatientRegistry.address, abi: patientRegistryAbi, functionName: 'register', args: [bytesToHex(x25519.getPublicKey(randomBytes(32)))] });
  await publicClientFor(anvil.rpcUrl, CHAIN).waitForTransactionReceipt({ hash });
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('access actions (real chain)', () => {
  it('registers organisations, refuses an unaccredited request in words, then accredits', async () => {
    await registerOrganization(ctx(clinic), { kind: 'provider', name: 'Riverside Clinic' });
    await registerOrganization(ctx(insurer), { kind: 'insurer', name: 'Acme Health Insurance' });
    await registerOrganization(ctx(er), { kind: 'emergency-provider', name: 'City ER' });
    const early = await requestAccess(ctx(clinic), { patient: patient.address, categories: ['labs'], purpose: 'TREAT', durationSeconds: 86_400 }).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(ActionRefusedError);
    expect((early as ActionRefusedError).errorName).toBe('AccessGrants__NotAccredited');
    expect((early as Error).message).toMatch(/not accredited/);
    const until = Math.floor(Date.now() / 1000) + 365 * 86_400;
    for (const o of [clinic, insurer, er]) await accreditOrganization(ctx(admin), { organization: o.address, until });
    expect(await readOrganization(ctx(clinic).client, contracts, clinic.address)).toMatchObject({ registered: true, kind: 'provider', accredited: true, nameHash: textHash('Riverside Clinic') });
  });

  it('asks, approves fewer categories for a shorter time, and revokes; the chain says so each time', async () => {
    const asked = await requestAccess(ctx(clinic), { patient: patient.address, categories: ['labs', 'mental-health'], purpose: 'TREAT', durationSeconds: 30 * 86_400 });
    expect(asked.requestId).toBe(1n);
    expect(asked.events.map((e) => e.eventName)).toEqual(['RequestCreated']);
    const approved = await approveRequest(ctx(patient), { requestId: asked.requestId, categories: ['labs'], durationSeconds: 7 * 86_400 });
    const state = await readAccess(ctx(patient).client, contracts, patient.address, clinic.address);
    expect(state.grant).toMatchObject({ categories: ['labs'], purpose: 'TREAT', live: true, expiresAt: approved.blockTimestamp + 7n * 86_400n });
    expect(state.liveCategories).toEqual(['labs']);
    const wider = await approveRequest(ctx(patient), { requestId: asked.requestId, categories: ['labs'], durationSeconds: 86_400 }).catch((e: unknown) => e);
    expect((wider as ActionRefusedError).errorName).toBe('AccessGrants__NotPending');
    await revokeGrant(ctx(patient), clinic.address);
    expect((await readAccess(ctx(patient).client, contracts, patient.address, clinic.address)).liveCategories).toEqual([]);
  });

  it('refuses an insurer by policy before any request exists, and says why', async () => {
    await setPolicy(ctx(patient), { neverShare: ['genomics'], bannedKinds: ['insurer'] });
    const refused = await requestAccess(ctx(insurer), { patient: patient.address, categories: ['labs'], purpose: 'HPAYMT', durationSeconds: 86_400 }).catch((e: unknown) => e);
    expect((refused as ActionRefusedError).errorName).toBe('AccessGrants__KindBanned');
    expect((refused as Error).message).toBe("The patient's policy refuses every insurer");
    const never = await requestAccess(ctx(clinic), { patient: patient.address, categories: ['genomics'], purpose: 'TREAT', durationSeconds: 86_400 }).catch((e: unknown) => e);
    expect((never as Error).message).toBe('The patient never shares genomics');
    expect((await readAccess(ctx(patient).client, contracts, patient.address, insurer.address)).policy).toEqual({ neverShare: ['genomics'], bannedKinds: ['insurer'] });
  });

  it('lets only an emergency provider break glass, for the emergency categories, with the reason hashed', async () => {
    const notEr = await breakGlass(ctx(clinic), { patient: patient.address, reason: 'unconscious on arrival' }).catch((e: unknown) => e);
    expect((notEr as ActionRefusedError).errorName).toBe('AccessGrants__NotEmergencyProvider');
    const opened = await breakGlass(ctx(er), { patient: patient.address, reason: 'unconscious on arrival' });
    const event = opened.events.find((e) => e.eventName === 'BreakGlassOpened')!;
    expect(event.args.reasonHash).toBe(textHash('unconscious on arrival'));
    const state = await readAccess(ctx(er).client, contracts, patient.address, er.address);
    expect(state.breakGlass.open).toBe(true);
    expect(state.breakGlass.expiresAt - state.breakGlass.openedAt).toBe(4n * 3600n);
    expect(state.liveCategories.sort()).toEqual(['allergies', 'conditions', 'demographics', 'medications']);
  });
});
