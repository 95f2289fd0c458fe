/**
 * The Access Simulator's walk-through, in the browser, on the local chain (31337) only. The page
 * plays several development accounts at once (patient, clinic, emergency provider, insurer, and
 * anvil account 0 as the local accreditor), each derived in the page from anvil's public mnemonic
 * (devAccount), each with its own wallet: a viem wallet client for transactions and a private wagmi
 * config with that one development account connected for the helpers that sign through wagmi
 * (sign-in, committee sharing, clinical reads). The user's own connected wallet is never touched.
 *
 * Every step does the real thing: transactions on chain, encryption and decryption in this page,
 * releases through the committee's gateways, the patient's inbox from the index. Nothing is faked.
 */
import { createPublicClient, createWalletClient, custom, getAddress, http, numberToHex, parseEventLogs, type EIP1193RequestFn, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import type { HDAccount } from 'viem/accounts';
import { createConfig, createConnector, type Config } from 'wagmi';
import { connect } from 'wagmi/actions';
import { patientRegistryAbi, releaseCommitteeAbi } from '@consentry/sdk/abi/generated';
import {
  ALL_ABIS,
  approveRequest,
  breakGlass,
  categoriesOf,
  closeBreakGlass,
  readAccess,
  requestAccess,
  revokeGrant,
  setPolicy,
  type AccessContracts,
  type ActionResult,
} from '@consentry/sdk/access/actions';
import { fundOnLocalChain, LOCAL_ACCREDITOR_INDEX, organizationsReady, prepareOrganizations, SIMULATOR_ACCOUNTS, SIMULATOR_CHAIN_ID, SIMULATOR_ORGANIZATIONS, simulatorRecords, type SimulatorRole } from '@consentry/sdk/access/simulator';
import { checkAccessLog, loadAccessLog, type Read } from '@consentry/sdk/access/access-log';
import { recordIdFor } from '@consentry/sdk/anchor/leaf';
import { chainFor } from '@consentry/sdk/clients';
import { graphqlRequest } from '@consentry/sdk/graphql';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import { categorize, type Category } from '@consentry/sdk/records/categories';
import { describeResource } from '@consentry/sdk/records/describe';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { fetchRequesterRecords, gatewayRefs, readRecord, requesterKeys, type ClinicalRead } from './clinical.client.ts';
import { devAccount, signTypedDataJson } from './dev-accounts.ts';
import { rememberKey } from './keyring.ts';
import type { PublicConfig } from './public-config.ts';
import { ensureSession, fetchRecords, importFiles, shareRecordsWithCommittee } from './records.client.ts';

type Wallet = WalletClient<Transport, Chain | undefined, Account>;

/** Something the simulator cannot do, in words. */
export class SimulatorError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SimulatorError';
  }
}

export interface Actor {
  role: SimulatorRole | 'accreditor';
  index: number;
  address: Address;
  name: string;
  wallet: Wallet;
  /** A wagmi config of its own with this one development account connected (never the user's wallet). */
  wagmi: Config;
}

export interface Cast {
  chainId: number;
  rpcUrl: string;
  contracts: AccessContracts & { PatientRegistry: Address; ReleaseCommittee: Address };
  gateways: string[];
  client: PublicClient;
  patient: Actor;
  clinic: Actor;
  emergency: Actor;
  insurer: Actor;
  accreditor: Actor;
}

const ROLE_NAMES: Record<SimulatorRole, string> = {
  patient: 'Patient (synthetic)',
  clinic: SIMULATOR_ORGANIZATIONS.find((o) => o.role === 'clinic')!.name,
  emergency: SIMULATOR_ORGANIZATIONS.find((o) => o.role === 'emergency')!.name,
  insurer: SIMULATOR_ORGANIZATIONS.find((o) => o.role === 'insurer')!.name,
};

/**
 * A wagmi connector for one simulator account whose EIP-712 signatures are made in this page with
 * the derived key (the helpers it serves sign through wagmi with the account's address, which a
 * plain JSON-RPC provider would hand to the node; anvil holds no key for accounts past its ten).
 * Everything else goes to the chain's RPC.
 */
function simulatorConnector(account: HDAccount, index: number, rpcUrl: string) {
  return createConnector<{ request: EIP1193RequestFn }>((config) => {
    const chain = config.chains[0];
    const rpc = http(rpcUrl, { retryCount: 1, timeout: 10_000 })({ chain, retryCount: 1 });
    const request = (async ({ method, params }: { method: string; params?: unknown }) => {
      switch (method) {
        case 'eth_accounts':
        case 'eth_requestAccounts':
          return [account.address];
        case 'eth_chainId':
          return numberToHex(chain.id);
        case 'eth_signTypedData_v4': {
          const [from, json] = params as [string, string];
          if (getAddress(from) !== account.address) throw new SimulatorError('WRONG_SIGNER', `Simulator account ${index} cannot sign for ${from}`);
          return signTypedDataJson(account, json);
        }
        case 'eth_sendTransaction':
        case 'eth_sign':
        case 'personal_sign':
          throw new SimulatorError('NOT_SUPPORTED', `The simulator sends its transactions with its own wallet clients, not through wagmi (${method})`);
        default:
          return rpc.request({ method, params } as never);
      }
    }) as EIP1193RequestFn;
    let connected = false;
    return {
      id: `simulator-${index}`,
      name: `Simulator account ${index}`,
      type: 'simulator',
      async connect() {
        connected = true;
        return { accounts: [account.address], chainId: chain.id } as never;
      },
      async disconnect() {
        connected = false;
      },
      async getAccounts() {
        return [account.address];
      },
      async getChainId() {
        return chain.id;
      },
      async getProvider() {
        return { request };
      },
      async getClient() {
        return createWalletClient({ account: account.address, chain, transport: custom({ request }) });
      },
      async isAuthorized() {
        return connected;
      },
      onAccountsChanged() {},
      onChainChanged() {},
      onDisconnect() {
        connected = false;
      },
    };
  });
}

async function actor(pc: PublicConfig, chain: Chain, role: Actor['role'], index: number): Promise<Actor> {
  const account = devAccount(index);
  const wagmi = createConfig({
    chains: [chain],
    connectors: [simulatorConnector(account, index, pc.rpcUrl)],
    transports: { [chain.id]: http(pc.rpcUrl, { retryCount: 1, timeout: 10_000 }) },
    storage: null,
    multiInjectedProviderDiscovery: false,
    pollingInterval: 500,
  });
  await connect(wagmi, { connector: wagmi.connectors[0]! });
  return {
    role,
    index,
    address: account.address,
    name: role === 'accreditor' ? 'Local accreditor (anvil account 0)' : ROLE_NAMES[role],
    wallet: createWalletClient({ account, chain, transport: http(pc.rpcUrl, { retryCount: 1, timeout: 10_000 }) }),
    wagmi,
  };
}

/** The simulator's accounts and clients; refuses in words anywhere but a complete local deployment. */
export async function createCast(pc: PublicConfig): Promise<Cast> {
  if (pc.chainId !== SIMULATOR_CHAIN_ID) throw new SimulatorError('NOT_LOCAL', `The Access Simulator runs on the local chain (31337) only; this app is configured for chain ${pc.chainId || 'none'}.`);
  const c = pc.contracts;
  if (!c) throw new SimulatorError('NO_DEPLOYMENT', 'There is no deployment of the contracts on the local chain yet; start the stack with npm start.');
  if (!c.AccessGrants || !c.OrganizationRegistry || !c.ReleaseCommittee) {
    throw new SimulatorError('NO_ACCESS_CONTRACTS', 'This deployment has no access contracts (AccessGrants, OrganizationRegistry, ReleaseCommittee); restart the stack so they are deployed.');
  }
  if (pc.gateways.length === 0) throw new SimulatorError('NO_GATEWAYS', 'No release gateways are configured (GATEWAY_URLS); npm start runs three on the local chain.');
  const chain = chainFor(pc.chainId, pc.rpcUrl);
  const client = createPublicClient({ chain, transport: http(pc.rpcUrl, { retryCount: 1, timeout: 10_000 }), pollingInterval: 500 }) as PublicClient;
  const [patient, clinic, emergency, insurer, accreditor] = await Promise.all([
    actor(pc, chain, 'patient', SIMULATOR_ACCOUNTS.patient),
    actor(pc, chain, 'clinic', SIMULATOR_ACCOUNTS.clinic),
    actor(pc, chain, 'emergency', SIMULATOR_ACCOUNTS.emergency),
    actor(pc, chain, 'insurer', SIMULATOR_ACCOUNTS.insurer),
    actor(pc, chain, 'accreditor', LOCAL_ACCREDITOR_INDEX),
  ]);
  return {
    chainId: pc.chainId,
    rpcUrl: pc.rpcUrl,
    contracts: { AccessGrants: c.AccessGrants, OrganizationRegistry: c.OrganizationRegistry, PatientRegistry: c.PatientRegistry, ReleaseCommittee: c.ReleaseCommittee },
    gateways: pc.gateways,
    client,
    patient,
    clinic,
    emergency,
    insurer,
    accreditor,
  };
}

/** One record of this run as the patient uploaded it. */
export interface RecordRef {
  recordId: Hex;
  version: number;
  category: Category;
  title: string;
}

/** What the walk-through has learnt so far (kept across steps, reset by "Start over"). */
export interface RunState {
  run: string;
  patientKeys?: EncryptionKeyPair;
  records?: { lab: RecordRef; medication: RecordRef; mentalHealth: RecordRef };
  requestId?: bigint;
  /** Unix ms when this run's first read was attempted: the audit trail shows entries from then on. */
  readsSince?: number;
}

export const newRun = (): RunState => ({ run: `${Date.now().toString(36)}-${Math.floor(Math.random() * 1296).toString(36)}` });

export interface TxView {
  label: string;
  hash: Hex;
  blockNumber: bigint;
  blockTimestamp: bigint;
  events: ActionResult['events'];
}

/** A line in a role's pane: what that person sees after the step. */
export interface PaneNote {
  tone: 'info' | 'ok' | 'refused' | 'alert' | 'pending';
  title: string;
  text?: string;
  /** Preformatted content (a decrypted record's JSON). */
  pre?: string;
  list?: string[];
  testId?: string;
}

export interface StepResult {
  summary: string;
  transactions: TxView[];
  patient: PaneNote[];
  clinician: PaneNote[];
}

export interface StepContext {
  cast: Cast;
  state: RunState;
  progress: (line: string) => void;
}

export type StepId = 'prepare' | 'upload' | 'request' | 'notify' | 'approve' | 'read' | 'refused' | 'revoke' | 'refused-after-revoke' | 'audit' | 'break-glass' | 'policy';

export interface StepDef {
  id: StepId;
  title: string;
  /** Who acts, shown next to the button. */
  actor: string;
  run: (ctx: StepContext) => Promise<StepResult>;
}

const DAY = 86_400;
/** How long the audit step waits for the index and the gateways' roots before showing entries as pending. */
const AUDIT_WAIT_MS = 45_000;
const tx = (label: string, r: ActionResult): TxView => ({ label, hash: r.hash, blockNumber: r.blockNumber, blockTimestamp: r.blockTimestamp, events: r.events });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const short = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new SimulatorError('OUT_OF_ORDER', `${what} is missing: run the earlier steps first (or Start over).`);
  return value;
}

/** The patient's X25519 keys, derived in this page from the patient account's signature (decision 005). */
async function patientKeys(ctx: StepContext): Promise<EncryptionKeyPair> {
  if (ctx.state.patientKeys) return ctx.state.patientKeys;
  const { patient, chainId } = { patient: ctx.cast.patient, chainId: ctx.cast.chainId };
  const pair = deriveEncryptionKeyPair(await patient.wallet.signTypedData({ account: patient.wallet.account, ...keyDerivationTypedData(chainId) }));
  rememberKey(patient.address, pair);
  ctx.state.patientKeys = pair;
  return pair;
}

/** Reads one of this run's records as `who` (clinic or emergency provider) through the committee. */
async function readAs(ctx: StepContext, who: Actor, record: RecordRef): Promise<ClinicalRead & { gateways: number }> {
  const { cast } = ctx;
  ctx.state.readsSince ??= Date.now() - 5_000;
  ctx.progress(`${who.name} signs in and derives its own encryption key in this page…`);
  const keys = await requesterKeys(who.wagmi, who.address, cast.chainId);
  await ensureSession(who.wagmi, who.address, cast.chainId);
  const refs = await gatewayRefs(cast.gateways);
  ctx.progress(`Asking ${refs.length} release gateways for their shares of the ${record.category} record's key…`);
  const read = await readRecord({ config: who.wagmi, account: who.address, chainId: cast.chainId, contracts: cast.contracts, gateways: refs, patient: cast.patient.address, recordId: record.recordId, version: record.version, keys });
  return { ...read, gateways: refs.length };
}

/** Reads a record that must be refused; a release here would be a failure of the system, said so. */
async function expectRefusal(ctx: StepContext, who: Actor, record: RecordRef): Promise<{ code: string; message: string }> {
  try {
    await readAs(ctx, who, record);
  } catch (err) {
    const e = err as { name?: string; code?: unknown; message?: string };
    if (e.name === 'ClinicalReadError' && typeof e.code === 'string' && e.code !== 'COMMITTEE_UNAVAILABLE' && e.code !== 'READ_FAILED') return { code: e.code, message: e.message ?? '' };
    throw err;
  }
  throw new SimulatorError('RELEASED', `The ${record.category} record was released to ${who.name}, but the chain should not allow it: stop and investigate.`);
}

/** Polls the index (through the web server's /graphql) until `found` returns something; honest about the wait. */
async function pollIndex<T>(ctx: StepContext, what: string, query: string, variables: Record<string, unknown>, found: (data: unknown) => T | undefined, timeoutMs = 60_000): Promise<{ value: T; waitedMs: number }> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const value = found(await graphqlRequest<unknown>('/graphql', query, variables));
    if (value !== undefined) return { value, waitedMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new SimulatorError('INDEX_LAG', `The index has not shown ${what} after ${Math.round(timeoutMs / 1000)} s; is the indexer running?`);
    ctx.progress(`Waiting for the indexer to see ${what} (${((Date.now() - started) / 1000).toFixed(1)} s, attempt ${attempt})…`);
    await sleep(500);
  }
}

const REQUESTS_QUERY = /* GraphQL */ `
  query SimulatorRequests($patient: Bytes!, $requester: Bytes!) {
    accessRequests(first: 100, where: { patient: $patient, requester: $requester }) {
      requestId
      categories
      purpose
      duration
      status
      createdAtBlock
    }
  }
`;

const EVENTS_QUERY = /* GraphQL */ `
  query SimulatorInbox($patient: Bytes!) {
    accessEvents(first: 50, where: { patient: $patient }, orderBy: blockNumber, orderDirection: desc) {
      kind
      organization
      requestId
      categories
      expiresAt
      reasonHash
      blockNumber
      transactionHash
    }
  }
`;

interface IndexedRequest {
  requestId: string;
  categories: number;
  purpose: number;
  duration: string;
  status: string;
  createdAtBlock: string;
}
interface IndexedEvent {
  kind: string;
  organization: string;
  requestId: string | null;
  categories: number | null;
  expiresAt: string | null;
  reasonHash: string | null;
  blockNumber: string;
  transactionHash: string;
}

const days = (seconds: number | bigint | string) => `${Math.round(Number(seconds) / DAY)} days`;
const when = (unixSeconds: bigint | string | number) => new Date(Number(unixSeconds) * 1000).toLocaleString();

function describeDecrypted(resource: FhirResource): { title: string; text: string } {
  const d = describeResource(resource);
  return { title: d.title, text: [d.detail, d.date ? `(${d.date.slice(0, 10)})` : ''].filter(Boolean).join(' ') };
}

export const STEPS: readonly StepDef[] = [
  {
    id: 'prepare',
    title: 'Prepare the organisations',
    actor: 'Local accreditor',
    async run(ctx) {
      const { cast } = ctx;
      for (const a of [cast.patient, cast.clinic, cast.emergency, cast.insurer]) await fundOnLocalChain(cast.client, a.address);
      const addresses = { clinic: cast.clinic.address, emergency: cast.emergency.address, insurer: cast.insurer.address };
      const committee = await cast.client.readContract({ address: cast.contracts.ReleaseCommittee, abi: releaseCommitteeAbi, functionName: 'committee' });
      if (committee[2].length === 0) throw new SimulatorError('NO_COMMITTEE', 'The release committee has no members: restart the stack (npm start provisions three gateways).');
      if (await organizationsReady(cast.client, cast.contracts, addresses)) {
        return {
          summary: 'The clinic, the emergency department and the insurer are already registered and accredited (npm run demo did it). Nothing to send.',
          transactions: [],
          patient: [],
          clinician: [{ tone: 'ok', title: 'Organisations ready', list: SIMULATOR_ORGANIZATIONS.map((o) => `${o.name}: registered as ${o.kind}, accredited`) }],
        };
      }
      ctx.progress('Registering the organisations and accrediting them as the local accreditor…');
      const steps = await prepareOrganizations({
        client: cast.client,
        contracts: cast.contracts,
        accreditor: cast.accreditor.wallet,
        organizations: { clinic: cast.clinic.wallet, emergency: cast.emergency.wallet, insurer: cast.insurer.wallet },
        onStep: (s) => ctx.progress(`${s.name} ${s.action}.`),
      });
      return {
        summary: `${steps.length} transactions: each organisation registered itself (only hashes of its name go on chain) and the local accreditor (anvil account 0, the only accreditor on the local chain) accredited it for a year.`,
        transactions: steps.map((s) => tx(`${s.action === 'registered' ? 'Register' : 'Accredit (local accreditor)'}: ${s.name}`, s.result)),
        patient: [],
        clinician: [{ tone: 'ok', title: 'Organisations ready', list: SIMULATOR_ORGANIZATIONS.map((o) => `${o.name}: registered as ${o.kind}, accredited`) }],
      };
    },
  },
  {
    id: 'upload',
    title: 'Patient uploads three records and shares their keys with the committee',
    actor: 'Patient',
    async run(ctx) {
      const { cast, state } = ctx;
      const patient = cast.patient;
      const transactions: TxView[] = [];
      ctx.progress('The patient signs the key-derivation message; the encryption key is derived in this page…');
      const keys = await patientKeys(ctx);
      const registered = await cast.client.readContract({ address: cast.contracts.PatientRegistry, abi: patientRegistryAbi, functionName: 'isRegistered', args: [patient.address] });
      if (!registered) {
        ctx.progress('Registering the patient (public encryption key on chain)…');
        const { request } = await cast.client.simulateContract({ address: cast.contracts.PatientRegistry, abi: patientRegistryAbi, functionName: 'register', args: [keys.publicKeyHex], account: patient.wallet.account });
        const hash = await patient.wallet.writeContract(request);
        const receipt = await cast.client.waitForTransactionReceipt({ hash, timeout: 60_000 });
        if (receipt.status !== 'success') throw new SimulatorError('REVERTED', 'The patient registration was reverted on chain');
        const block = await cast.client.getBlock({ blockNumber: receipt.blockNumber });
        const events = parseEventLogs({ abi: ALL_ABIS, logs: receipt.logs }).map((l) => ({ eventName: l.eventName, args: l.args as Record<string, unknown> }));
        transactions.push({ label: 'PatientRegistry.register (the patient)', hash, blockNumber: receipt.blockNumber, blockTimestamp: block.timestamp, events });
      }
      const synthetic = simulatorRecords(state.run);
      ctx.progress('Signing in to the record store as the patient…');
      await ensureSession(patient.wagmi, patient.address, cast.chainId);
      const bundle = { resourceType: 'Bundle', type: 'collection', entry: [synthetic.lab, synthetic.medication, synthetic.mentalHealth].map((resource) => ({ resource })) };
      const imported = await importFiles([{ name: 'simulator.json', text: async () => JSON.stringify(bundle) }], patient.address, keys, (p) => {
        ctx.progress(p.stage === 'loading-definitions' ? 'Loading the FHIR R4 definitions to validate the records…' : `Validating, encrypting in this page and uploading: ${p.done} of ${p.total || 3}…`);
      });
      if (imported.errors.length > 0) throw new SimulatorError('IMPORT_FAILED', `The synthetic records were rejected: ${imported.errors.map((e) => e.reason).join('; ')}`);
      const stored = await fetchRecords();
      const ref = (resource: FhirResource): RecordRef => {
        const recordId = recordIdFor(patient.address, resource.resourceType, String(resource.id));
        const version = Math.max(0, ...stored.versions.filter((v) => v.recordId === recordId).map((v) => v.version));
        if (version === 0) throw new SimulatorError('NOT_STORED', `The ${resource.resourceType} record was not stored`);
        return { recordId, version, category: categorize(resource), title: describeDecrypted(resource).title };
      };
      state.records = { lab: ref(synthetic.lab), medication: ref(synthetic.medication), mentalHealth: ref(synthetic.mentalHealth) };
      ctx.progress('Splitting each record key 2-of-3 and sealing one share to each committee member…');
      const shared = await shareRecordsWithCommittee(
        { config: patient.wagmi, account: patient.address, chainId: cast.chainId, keys, rpcUrl: cast.rpcUrl, committee: cast.contracts.ReleaseCommittee },
        (done, total) => ctx.progress(`Shared ${done} of ${total} record keys with the committee…`),
      );
      const records = Object.values(state.records);
      return {
        summary: `${registered ? 'The patient was already registered. ' : 'The patient registered its public encryption key. '}${imported.stored} records were encrypted in this page and uploaded as ciphertext; ${shared} record keys were split to the release committee. The anchor worker will anchor their hashes on chain within seconds.`,
        transactions,
        patient: [
          { tone: 'ok', title: 'My records (decrypted only in this page)', list: records.map((r) => `${r.title} — ${r.category}`), testId: 'patient-records' },
          { tone: 'info', title: 'Shared with the release committee', text: `${shared} data keys split 2-of-3; fewer than 2 members learn nothing.` },
        ],
        clinician: [],
      };
    },
  },
  {
    id: 'request',
    title: 'Clinician requests labs and mental health for 30 days',
    actor: 'Clinic',
    async run(ctx) {
      const { cast, state } = ctx;
      const r = await requestAccess({ wallet: cast.clinic.wallet, client: cast.client, contracts: cast.contracts }, { patient: cast.patient.address, categories: ['labs', 'mental-health'], purpose: 'TREAT', durationSeconds: 30 * DAY });
      state.requestId = r.requestId;
      return {
        summary: `The clinic asked for labs and mental-health, purpose TREAT (treatment), for 30 days: request #${r.requestId}.`,
        transactions: [tx('AccessGrants.requestAccess (the clinic)', r)],
        patient: [],
        clinician: [{ tone: 'pending', title: `Request #${r.requestId} sent`, text: 'Labs and mental-health, for treatment, 30 days. Waiting for the patient.' }],
      };
    },
  },
  {
    id: 'notify',
    title: "Patient is notified (from the index)",
    actor: 'Patient',
    async run(ctx) {
      const { cast, state } = ctx;
      const requestId = need(state.requestId, 'The request');
      const { value, waitedMs } = await pollIndex(
        ctx,
        `request #${requestId}`,
        REQUESTS_QUERY,
        { patient: cast.patient.address.toLowerCase(), requester: cast.clinic.address.toLowerCase() },
        (data) => (data as { accessRequests: IndexedRequest[] }).accessRequests.find((r) => BigInt(r.requestId) === requestId && r.status === 'PENDING'),
      );
      return {
        summary: `The indexer saw request #${requestId} (block ${value.createdAtBlock}); it appeared in the patient's inbox after ${(waitedMs / 1000).toFixed(1)} s of polling /graphql. No transaction: this is the read model catching up with the chain.`,
        transactions: [],
        patient: [
          {
            tone: 'alert',
            title: `New request #${requestId} from ${cast.clinic.name}`,
            text: `Asks for ${categoriesOf(value.categories).join(' and ')} for ${days(value.duration)}, purpose ${value.purpose === 0 ? 'TREAT (treatment)' : value.purpose}. Status: ${value.status}. Indexed ${(waitedMs / 1000).toFixed(1)} s after the step started.`,
            testId: 'pending-request',
          },
        ],
        clinician: [],
      };
    },
  },
  {
    id: 'approve',
    title: 'Patient approves labs only, for 7 days',
    actor: 'Patient',
    async run(ctx) {
      const { cast, state } = ctx;
      const requestId = need(state.requestId, 'The request');
      const r = await approveRequest({ wallet: cast.patient.wallet, client: cast.client, contracts: cast.contracts }, { requestId, categories: ['labs'], durationSeconds: 7 * DAY });
      return {
        summary: `The patient approved request #${requestId} narrower than asked: labs only (not mental-health), for 7 days instead of 30.`,
        transactions: [tx('AccessGrants.approve (the patient)', r)],
        patient: [{ tone: 'ok', title: `Approved #${requestId}: labs only, 7 days`, text: 'Mental-health stays private.' }],
        clinician: [{ tone: 'ok', title: `Request #${requestId} approved`, text: 'Labs, for 7 days. Mental-health was not approved.' }],
      };
    },
  },
  {
    id: 'read',
    title: 'Clinician reads the lab result (release and decrypt)',
    actor: 'Clinic',
    async run(ctx) {
      const lab = need(ctx.state.records, 'The records').lab;
      const read = await readAs(ctx, ctx.cast.clinic, lab);
      const d = describeDecrypted(read.resource);
      const listed = await fetchRequesterRecords(ctx.cast.clinic.wagmi, ctx.cast.clinic.address, ctx.cast.chainId, ctx.cast.patient.address);
      return {
        summary: `${read.releasedBy.length} of ${read.gateways} gateways checked the grant on chain, logged the release and sent their share re-sealed to the clinic's key; the clinic combined them and decrypted the record in this page.`,
        transactions: [],
        patient: [],
        clinician: [
          { tone: 'ok', title: `Decrypted: ${d.title}`, text: d.text, pre: JSON.stringify(read.resource, null, 2), testId: 'decrypted-lab' },
          { tone: 'info', title: 'Released by', list: read.releasedBy.map((m) => `committee member ${m}`).concat(read.failures.map((f) => `${f.member}: ${f.reason}`)), testId: 'released-by' },
          { tone: 'info', title: 'The patient’s records listed to the clinic (no content)', text: `Asked for ${listed.asked.join(', ')}; live now: ${listed.live.join(', ') || 'nothing'}. ${listed.records.length} records in those categories (ids and types only; reading each still needs the committee).` },
        ],
      };
    },
  },
  {
    id: 'refused',
    title: 'Clinician tries the mental-health note: refused',
    actor: 'Clinic',
    async run(ctx) {
      const note = need(ctx.state.records, 'The records').mentalHealth;
      const refused = await expectRefusal(ctx, ctx.cast.clinic, note);
      return {
        summary: `Every gateway checked the chain and refused (${refused.code}); no share left any gateway, so nothing could be decrypted.`,
        transactions: [],
        patient: [],
        clinician: [{ tone: 'refused', title: 'Mental-health note refused', text: refused.message, testId: 'refusal-mental-health' }],
      };
    },
  },
  {
    id: 'revoke',
    title: 'Patient revokes the clinic’s grant',
    actor: 'Patient',
    async run(ctx) {
      const { cast } = ctx;
      const r = await revokeGrant({ wallet: cast.patient.wallet, client: cast.client, contracts: cast.contracts }, cast.clinic.address);
      return {
        summary: 'The grant is deleted on chain; every release after this block is refused.',
        transactions: [tx('AccessGrants.revoke (the patient)', r)],
        patient: [{ tone: 'ok', title: `Revoked ${cast.clinic.name}`, text: 'From this block on the committee releases nothing to the clinic.' }],
        clinician: [],
      };
    },
  },
  {
    id: 'refused-after-revoke',
    title: 'Clinician tries the lab again: refused',
    actor: 'Clinic',
    async run(ctx) {
      const lab = need(ctx.state.records, 'The records').lab;
      const refused = await expectRefusal(ctx, ctx.cast.clinic, lab);
      return {
        summary: `The same read that worked before revocation is now refused by every gateway (${refused.code}).`,
        transactions: [],
        patient: [],
        clinician: [{ tone: 'refused', title: 'Lab result refused', text: refused.message, testId: 'refusal-after-revoke' }],
      };
    },
  },
  {
    id: 'audit',
    title: 'Patient checks who saw the records (audit trail with proofs)',
    actor: 'Patient',
    async run(ctx) {
      const { cast, state } = ctx;
      const records = need(state.records, 'The records');
      const since = need(state.readsSince, 'A read');
      const mine = (r: Read) => r.at >= since && Object.values(records).some((x) => x.recordId === r.recordId.toLowerCase());
      const load = async () => {
        const log = await loadAccessLog('/graphql', cast.patient.address);
        return checkAccessLog({ ...log, client: cast.client, committee: cast.contracts.ReleaseCommittee });
      };
      const started = Date.now();
      let checked = await load();
      // The index follows the gateways' public logs; the gateways post a root every GATEWAY_LOG_INTERVAL_MS.
      while (Date.now() - started < AUDIT_WAIT_MS && !(checked.reads.some(mine) && checked.reads.filter(mine).every((r) => r.status !== 'pending'))) {
        const reads = checked.reads.filter(mine);
        ctx.progress(
          reads.length === 0
            ? `Waiting for the index to pick up the gateways' release logs (${((Date.now() - started) / 1000).toFixed(0)} s)…`
            : `${reads.length} ${reads.length === 1 ? 'read' : 'reads'} indexed; waiting for the gateways to post their log roots on chain (${((Date.now() - started) / 1000).toFixed(0)} s)…`,
        );
        await sleep(1_000);
        checked = await load();
      }
      const reads = checked.reads.filter(mine);
      if (reads.length === 0) throw new SimulatorError('NO_AUDIT_ENTRIES', `The index shows no release of this run's records after ${AUDIT_WAIT_MS / 1000} s: is the indexer following the gateways' logs?`);
      const who = (a: string) => [cast.clinic, cast.emergency, cast.insurer].find((o) => o.address.toLowerCase() === a.toLowerCase())?.name ?? a;
      const titleOf = (recordId: string) => Object.values(records).find((x) => x.recordId === recordId.toLowerCase())?.title ?? recordId;
      const words = { proven: 'proven against a root posted on chain', pending: 'pending: its gateway has not posted the root yet', altered: 'ALTERED: does not match what was posted' } as const;
      const pending = reads.filter((r) => r.status === 'pending').length;
      return {
        summary: `${reads.length} ${reads.length === 1 ? 'read' : 'reads'} of this run's records, ${reads.length - pending} proven against the access-log roots the gateways posted on ReleaseCommittee${pending ? `, ${pending} still pending (the gateways post every few seconds)` : ''}. Refused reads released nothing, so they are not in the log.`,
        transactions: [],
        patient: [
          {
            tone: 'info',
            title: 'Who saw my records',
            list: reads.map((r) => `${who(r.requester)} read ${titleOf(r.recordId)} (${r.category}) v${r.version} at ${new Date(r.at).toLocaleTimeString()}, released by ${r.members.length} committee members — ${words[r.status]}`),
            testId: 'audit-entries',
          },
        ],
        clinician: [],
      };
    },
  },
  {
    id: 'break-glass',
    title: 'Emergency: break-glass opens the medications; the patient is told',
    actor: 'Emergency department',
    async run(ctx) {
      const { cast } = ctx;
      const medication = need(ctx.state.records, 'The records').medication;
      const reason = 'Patient unconscious on arrival; need current medication (simulator)';
      const r = await breakGlass({ wallet: cast.emergency.wallet, client: cast.client, contracts: cast.contracts }, { patient: cast.patient.address, reason });
      const read = await readAs(ctx, cast.emergency, medication);
      const d = describeDecrypted(read.resource);
      const { value: opened, waitedMs } = await pollIndex(
        ctx,
        'the break-glass event',
        EVENTS_QUERY,
        { patient: cast.patient.address.toLowerCase() },
        (data) => (data as { accessEvents: IndexedEvent[] }).accessEvents.find((e) => e.kind === 'BREAK_GLASS_OPENED' && e.transactionHash.toLowerCase() === r.hash.toLowerCase()),
      );
      return {
        summary: `The emergency department opened the patient's emergency categories (medications, allergies, conditions, demographics; never labs or mental-health) for 4 hours, with only the reason's hash on chain, and read the medication through the committee. The patient's inbox showed it after ${(waitedMs / 1000).toFixed(1)} s.`,
        transactions: [tx('AccessGrants.breakGlass (the emergency department)', r)],
        patient: [
          {
            tone: 'alert',
            title: `Break-glass by ${cast.emergency.name}`,
            text: `Opened ${categoriesOf(opened.categories ?? 0).join(', ')} until ${opened.expiresAt ? when(opened.expiresAt) : '?'} (block ${opened.blockNumber}). Reason hash ${opened.reasonHash ? short(opened.reasonHash) : '?'}.`,
            testId: 'break-glass-notice',
          },
        ],
        clinician: [{ tone: 'ok', title: `Emergency read: ${d.title}`, text: d.text, pre: JSON.stringify(read.resource, null, 2), testId: 'decrypted-medication' }],
      };
    },
  },
  {
    id: 'policy',
    title: 'Patient bans insurers; the insurer is refused by policy',
    actor: 'Patient, then insurer',
    async run(ctx) {
      const { cast } = ctx;
      const r = await setPolicy({ wallet: cast.patient.wallet, client: cast.client, contracts: cast.contracts }, { neverShare: [], bannedKinds: ['insurer'] });
      let words: string;
      try {
        await requestAccess({ wallet: cast.insurer.wallet, client: cast.client, contracts: cast.contracts }, { patient: cast.patient.address, categories: ['labs'], purpose: 'HPAYMT', durationSeconds: 30 * DAY });
        throw new SimulatorError('NOT_REFUSED', "The insurer's request went through although the patient bans insurers: stop and investigate.");
      } catch (err) {
        if ((err as { name?: string }).name !== 'ActionRefusedError') throw err;
        words = (err as Error).message;
      }
      return {
        summary: 'The policy is on chain; the insurer’s request was refused when simulated, so it was never sent and never reached the patient.',
        transactions: [tx('AccessGrants.setPolicy (the patient)', r)],
        patient: [{ tone: 'ok', title: 'Policy: never share with insurers', text: 'Applies at once to every request, grant and window.' }],
        clinician: [{ tone: 'refused', title: `${cast.insurer.name}: request refused`, text: words, testId: 'refusal-policy' }],
      };
    },
  },
];

/** What the chain says now about the patient and each organisation (read on chain, never lags). */
export async function readChainNow(cast: Cast) {
  const [clinic, emergency, insurer, registered] = await Promise.all([
    readAccess(cast.client, cast.contracts, cast.patient.address, cast.clinic.address),
    readAccess(cast.client, cast.contracts, cast.patient.address, cast.emergency.address),
    readAccess(cast.client, cast.contracts, cast.patient.address, cast.insurer.address),
    cast.client.readContract({ address: cast.contracts.PatientRegistry, abi: patientRegistryAbi, functionName: 'isRegistered', args: [cast.patient.address] }),
  ]);
  const block = await cast.client.getBlockNumber();
  return { block, now: clinic.now, registered, clinic, emergency, insurer };
}
export type ChainNow = Awaited<ReturnType<typeof readChainNow>>;

/**
 * "Start over" with the same accounts (development accounts are finite): end the clinic's grant,
 * close any break-glass window and lift the policy, so the next run starts from nothing; the next
 * upload uses new records. Returns the transactions it sent.
 */
export async function resetAccess(cast: Cast, progress: (line: string) => void): Promise<TxView[]> {
  const ctx = { wallet: cast.patient.wallet, client: cast.client, contracts: cast.contracts };
  const out: TxView[] = [];
  const now = await readChainNow(cast);
  for (const org of [cast.clinic, cast.emergency, cast.insurer]) {
    const access = await readAccess(cast.client, cast.contracts, cast.patient.address, org.address);
    if (access.grant.expiresAt > 0n) {
      progress(`Revoking ${org.name}'s grant…`);
      out.push(tx(`AccessGrants.revoke ${org.name}`, await revokeGrant(ctx, org.address)));
    }
    if (access.breakGlass.open) {
      progress(`Closing ${org.name}'s break-glass window…`);
      out.push(tx(`AccessGrants.closeBreakGlass ${org.name}`, await closeBreakGlass(ctx, { patient: cast.patient.address, provider: org.address })));
    }
  }
  if (now.clinic.policy.bannedKinds.length > 0 || now.clinic.policy.neverShare.length > 0) {
    progress('Lifting the patient’s policy…');
    out.push(tx('AccessGrants.setPolicy (cleared)', await setPolicy(ctx, { neverShare: [], bannedKinds: [] })));
  }
  return out;
}
