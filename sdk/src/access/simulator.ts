/**
 * The Access Simulator's cast and props (browser-safe; local chain 31337 only): which development
 * accounts play the patient, the clinic, the emergency provider and the insurer, the organisations
 * they register, the three synthetic records the patient uploads, and the preparation that
 * registers and accredits the organisations. `npm run demo` runs the same preparation so the
 * simulator starts ready; on a plain `npm start` chain the simulator's first step runs it itself.
 */
import { numberToHex, parseEther, type Account, type Address, type Chain, type PublicClient, type Transport, type WalletClient } from 'viem';
import type { FhirResource } from '../records/fhir-types.ts';
import { accreditOrganization, readOrganization, registerOrganization, type AccessContracts, type ActionResult, type OrganizationKind } from './actions.ts';

export const SIMULATOR_CHAIN_ID = 31337;
/** Anvil's default mnemonic: public, printed by anvil at start-up, play money on the local chain only. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

/**
 * Anvil mnemonic indexes past anvil's ten funded accounts (0 deployer, 1-6 sign up by hand, 7-9
 * demo patients), so the simulator never collides with anyone; they are funded on first use.
 */
export const SIMULATOR_ACCOUNTS = { patient: 10, clinic: 11, emergency: 12, insurer: 13 } as const;
/** Anvil account 0: the deployer, the only accreditor on the local chain. */
export const LOCAL_ACCREDITOR_INDEX = 0;

export type SimulatorRole = keyof typeof SIMULATOR_ACCOUNTS;
export type OrganizationRole = Exclude<SimulatorRole, 'patient'>;

export const SIMULATOR_ORGANIZATIONS: ReadonlyArray<{ role: OrganizationRole; kind: OrganizationKind; name: string }> = [
  { role: 'clinic', kind: 'provider', name: 'Riverside Clinic (simulator)' },
  { role: 'emergency', kind: 'emergency-provider', name: 'City Emergency Department (simulator)' },
  { role: 'insurer', kind: 'insurer', name: 'Acme Health Insurance (simulator)' },
];

/** How long the local accreditor accredits the simulator's organisations. */
export const SIMULATOR_ACCREDITATION_S = 365 * 86_400;
const MIN_BALANCE = parseEther('1');
const FUNDED_BALANCE = parseEther('100');

type Wallet = WalletClient<Transport, Chain | undefined, Account>;

/**
 * Gives an account play money when it has less than 1 ETH, through anvil's own RPC method
 * (anvil_setBalance): only a local anvil chain answers it. Returns whether it funded.
 */
export async function fundOnLocalChain(client: PublicClient, address: Address): Promise<boolean> {
  const chainId = await client.getChainId();
  if (chainId !== SIMULATOR_CHAIN_ID) throw new Error(`The simulator runs on the local chain (31337) only; this chain is ${chainId}`);
  if ((await client.getBalance({ address })) >= MIN_BALANCE) return false;
  await client.request({ method: 'anvil_setBalance', params: [address, numberToHex(FUNDED_BALANCE)] } as never);
  return true;
}

export interface CastStep {
  role: OrganizationRole;
  action: 'registered' | 'accredited';
  name: string;
  result: ActionResult;
}

/**
 * Registers each organisation that is missing and has the local accreditor accredit each one that
 * is not accredited now. Idempotent: with everything in place it sends nothing and returns [].
 */
export async function prepareOrganizations(opts: {
  client: PublicClient;
  contracts: AccessContracts;
  accreditor: Wallet;
  organizations: Record<OrganizationRole, Wallet>;
  onStep?: (step: CastStep) => void;
}): Promise<CastStep[]> {
  const { client, contracts } = opts;
  const steps: CastStep[] = [];
  const record = (s: CastStep) => {
    steps.push(s);
    opts.onStep?.(s);
  };
  for (const org of SIMULATOR_ORGANIZATIONS) {
    const wallet = opts.organizations[org.role];
    const address = wallet.account.address;
    await fundOnLocalChain(client, address);
    let state = await readOrganization(client, contracts, address);
    if (!state.registered) {
      record({ role: org.role, action: 'registered', name: org.name, result: await registerOrganization({ wallet, client, contracts }, { kind: org.kind, name: org.name }) });
      state = await readOrganization(client, contracts, address);
    }
    if (state.kind !== org.kind) {
      throw new Error(`Account ${address} is registered as ${state.kind}, not ${org.kind}: the simulator's accounts were used for something else on this chain`);
    }
    if (!state.accredited) {
      const now = (await client.getBlock({ blockTag: 'latest' })).timestamp;
      const until = Number(now) + SIMULATOR_ACCREDITATION_S;
      const result = await retryOnNonceClash(() => accreditOrganization({ wallet: opts.accreditor, client, contracts }, { organization: address, until }));
      record({ role: org.role, action: 'accredited', name: org.name, result });
    }
  }
  return steps;
}

/**
 * The local accreditor is anvil account 0, which the anchor worker also sends from (another
 * process): two transactions can pick the same nonce. The loser is simply sent again.
 */
async function retryOnNonceClash<T>(send: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await send();
    } catch (err) {
      const text = err instanceof Error ? `${err.message} ${String((err as { details?: unknown }).details ?? '')}` : String(err);
      if (i >= attempts || !/nonce|underpriced|already known/i.test(text)) throw err;
      await new Promise((r) => setTimeout(r, 500 * i));
    }
  }
}

/** Whether every simulator organisation is registered with the right kind and accredited now. */
export async function organizationsReady(client: PublicClient, contracts: AccessContracts, addresses: Record<OrganizationRole, Address>): Promise<boolean> {
  for (const org of SIMULATOR_ORGANIZATIONS) {
    const state = await readOrganization(client, contracts, addresses[org.role]);
    if (!state.registered || state.kind !== org.kind || !state.accredited) return false;
  }
  return true;
}

export interface SimulatorRecords {
  lab: FhirResource;
  medication: FhirResource;
  mentalHealth: FhirResource;
}

/**
 * Three synthetic records (no real person, no real data): an HbA1c lab result, a medication
 * statement and a depression diagnosis (ICD-10 F32.9, so category mental-health). `run` makes the
 * FHIR ids new for each run, so "start over" uploads new records.
 */
export function simulatorRecords(run: string): SimulatorRecords {
  if (!/^[A-Za-z0-9-]{1,40}$/.test(run)) throw new Error('The run id must be 1-40 letters, digits or dashes');
  const subject = { reference: 'Patient/simulator-patient', display: 'Synthetic patient (simulator)' };
  return {
    lab: {
      resourceType: 'Observation',
      id: `sim-hba1c-${run}`,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood' }], text: 'HbA1c' },
      subject,
      effectiveDateTime: '2026-11-02T09:30:00Z',
      valueQuantity: { value: 7.2, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    } as FhirResource,
    medication: {
      resourceType: 'MedicationStatement',
      id: `sim-metformin-${run}`,
      status: 'active',
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '860975', display: 'Metformin hydrochloride 500 MG Extended Release Oral Tablet' }], text: 'Metformin 500 mg extended release' },
      subject,
      effectiveDateTime: '2026-06-01',
      dosage: [{ text: 'One tablet twice a day with meals' }],
    } as FhirResource,
    mentalHealth: {
      resourceType: 'Condition',
      id: `sim-depression-${run}`,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'F32.9', display: 'Major depressive disorder, single episode, unspecified' }], text: 'Depression (F32.9)' },
      subject,
      recordedDate: '2026-09-14',
      note: [{ text: 'Synthetic note: low mood for two months; talking therapy started.' }],
    } as FhirResource,
  };
}
