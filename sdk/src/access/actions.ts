/**
 * The clinical-access transactions, browser-safe: organisations register and are accredited,
 * requesters ask, patients approve (narrower or shorter), deny, revoke and set policies, emergency
 * providers break glass. Every action simulates first (a revert becomes a decoded custom error in
 * words before anyone pays), sends with an explicit gas limit, waits for the receipt and returns
 * the transaction with its decoded events, so a page can show "what the chain now says".
 *
 * Works with any viem WalletClient that has an account: a browser wallet through wagmi's
 * getWalletClient, a development account, or a local private key in Node.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  keccak256,
  parseEventLogs,
  toHex,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import {
  accessGrantsAbi,
  consentTokenAbi,
  eligibilityVerifierAbi,
  issuerRegistryAbi,
  organizationRegistryAbi,
  patientRegistryAbi,
  recordAnchorAbi,
  releaseCommitteeAbi,
  studyMarketAbi,
  studyRegistryAbi,
} from '../abi/generated.ts';
import { ConsentryError } from '../errors.ts';
import { CATEGORIES, categoryMask, type Category } from '../records/categories.ts';

/** HL7 PurposeOfUse codes, in the order of AccessGrants.Purpose (the on-chain number is the index). */
export const PURPOSES = [
  { code: 'TREAT', label: 'Treatment' },
  { code: 'ETREAT', label: 'Emergency treatment' },
  { code: 'HPAYMT', label: 'Healthcare payment' },
  { code: 'HOPERAT', label: 'Healthcare operations' },
  { code: 'HRESCH', label: 'Healthcare research' },
  { code: 'PUBHLTH', label: 'Public health' },
  { code: 'PATRQT', label: 'Patient requested' },
  { code: 'HLEGAL', label: 'Legal' },
] as const;
export type PurposeCode = (typeof PURPOSES)[number]['code'];

/** Organisation kinds, in the order of OrganizationRegistry.Kind. */
export const ORGANIZATION_KINDS = [
  { code: 'provider', label: 'Provider (clinic, hospital, practitioner)' },
  { code: 'emergency-provider', label: 'Emergency provider' },
  { code: 'researcher', label: 'Researcher' },
  { code: 'insurer', label: 'Insurer' },
  { code: 'irb', label: 'Institutional review board' },
  { code: 'issuer', label: 'Credential issuer' },
  { code: 'other', label: 'Other' },
] as const;
export type OrganizationKind = (typeof ORGANIZATION_KINDS)[number]['code'];

/** The categories break-glass opens (AccessGrants.EMERGENCY_CATEGORIES, 0x080E). */
export const EMERGENCY_CATEGORIES: readonly Category[] = ['medications', 'allergies', 'conditions', 'demographics'];

/** The on-chain category bitmask as category names (unknown bits are ignored). */
export function categoriesOf(mask: number): Category[] {
  return CATEGORIES.filter((_, bit) => (mask & (1 << bit)) !== 0);
}

export const purposeIndex = (code: PurposeCode): number => PURPOSES.findIndex((p) => p.code === code);
export const purposeCode = (index: number): PurposeCode | 'UNKNOWN' => PURPOSES[index]?.code ?? 'UNKNOWN';
export const kindIndex = (code: OrganizationKind): number => ORGANIZATION_KINDS.findIndex((k) => k.code === code);
export const kindCode = (index: number): OrganizationKind | 'unknown' => ORGANIZATION_KINDS[index]?.code ?? 'unknown';
/** How free text (an organisation's name, a break-glass reason) goes on chain: its hash only. */
export const textHash = (text: string): Hex => keccak256(toHex(text.normalize('NFC')));

export interface AccessContracts {
  AccessGrants: Address;
  OrganizationRegistry: Address;
}

export interface ActionContext {
  wallet: WalletClient<Transport, Chain | undefined, Account>;
  client: PublicClient;
  contracts: AccessContracts;
  /** Receipt wait limit (default 120 s). */
  timeoutMs?: number;
}

/** A confirmed transaction and the events it emitted (decoded against the access contracts). */
export interface ActionResult {
  hash: Hex;
  blockNumber: bigint;
  /** The block's timestamp, seconds: what `isLive` compares expiries with. */
  blockTimestamp: bigint;
  events: Array<{ eventName: string; args: Record<string, unknown> }>;
}

/** A contract refused the action; `errorName` is the custom error, `message` says it in words. */
export class ActionRefusedError extends ConsentryError {
  constructor(
    readonly errorName: string,
    message: string,
    readonly hash?: Hex,
  ) {
    super('ACTION_REFUSED', message);
    this.name = 'ActionRefusedError';
  }
}

/** Every Consentry contract's ABI at once: decodes any of their custom errors and events. */
export const ALL_ABIS = [
  ...accessGrantsAbi,
  ...organizationRegistryAbi,
  ...releaseCommitteeAbi,
  ...patientRegistryAbi,
  ...recordAnchorAbi,
  ...issuerRegistryAbi,
  ...eligibilityVerifierAbi,
  ...studyRegistryAbi,
  ...consentTokenAbi,
  ...studyMarketAbi,
] as Abi;

/** A unix time (seconds, as a contract error carries it) as an ISO date and time. */
const isoTime = (seconds: unknown): string => new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');

/** The roles of the Consentry contracts by their hash, so a refusal can name the one missing. */
const ROLE_NAMES: Record<string, string> = {
  [`0x${'00'.repeat(32)}`]: 'admin',
  [keccak256(toHex('ACCREDITOR_ROLE'))]: 'accreditor',
  [keccak256(toHex('ISSUER_ACCREDITOR_ROLE'))]: 'issuer accreditor',
  [keccak256(toHex('CONSUMER_ROLE'))]: 'eligibility consumer',
  [keccak256(toHex('MINTER_ROLE'))]: 'consent token minter',
};

/** IStudyRegistry.Status in its order, for the words of a refusal. */
const STUDY_STATUS_WORDS = ['pending IRB review', 'approved', 'rejected by an IRB', 'paused by its researcher', 'closed', 'suspended by an IRB'];

const ERROR_WORDS: Record<string, (args: readonly unknown[]) => string> = {
  AccessGrants__PatientNotRegistered: () => 'That address is not a registered patient',
  AccessGrants__NotAccredited: () => 'Your organisation is not accredited (register it and ask an accreditor)',
  AccessGrants__KindBanned: ([, kind]) => `The patient's policy refuses every ${ORGANIZATION_KINDS[Number(kind)]?.label.toLowerCase() ?? 'organisation of this kind'}`,
  AccessGrants__NeverShared: ([, blocked]) => `The patient never shares ${categoriesOf(Number(blocked)).join(', ')}`,
  AccessGrants__InvalidCategories: () => 'Choose at least one category',
  AccessGrants__InvalidKinds: () => 'Unknown organisation kinds in the policy',
  AccessGrants__InvalidDuration: ([, max]) => `The duration must be between 1 second and ${Math.round(Number(max) / 86_400)} days`,
  AccessGrants__UnknownRequest: ([id]) => `There is no request #${String(id)}`,
  AccessGrants__Unauthorized: ([id]) => `You may not answer request #${String(id)}: it is not addressed to you`,
  AccessGrants__NotPending: ([id]) => `Request #${String(id)} was already answered or cancelled`,
  AccessGrants__NotSubset: () => 'An approval may only include categories that were asked for',
  AccessGrants__DurationTooLong: () => 'An approval may not last longer than was asked for',
  AccessGrants__NoGrant: () => 'There is no grant to revoke',
  AccessGrants__NotEmergencyProvider: () => 'Only an accredited emergency provider may break glass',
  AccessGrants__ZeroReason: () => 'Break-glass needs a reason',
  AccessGrants__NothingToOpen: () => 'The patient shares none of the emergency categories, so there is nothing to open',
  AccessGrants__NoBreakGlass: () => 'There is no open break-glass window',
  AccessGrants__NotPatientOrProvider: () => 'Only the patient or the provider may close this window',
  OrganizationRegistry__AlreadyRegistered: () => 'This account already registered an organisation',
  OrganizationRegistry__NotRegistered: () => 'That account has not registered an organisation',
  OrganizationRegistry__ZeroNameHash: () => 'The organisation needs a name',
  OrganizationRegistry__ExpiryNotInFuture: () => 'The accreditation must end in the future',
  OrganizationRegistry__NotAccredited: () => 'That organisation is not accredited',
  AccessControlUnauthorizedAccount: ([, role]) => {
    const name = ROLE_NAMES[String(role).toLowerCase()];
    return name ? `This account does not hold the role this needs (${name})` : 'This account does not hold the role this needs (accreditor or admin)';
  },
  IssuerRegistry__ZeroAdmin: () => 'The issuer registry needs an admin',
  IssuerRegistry__CoordinateOutOfField: () => 'That is not an issuer key: a coordinate is outside the field',
  IssuerRegistry__NotOnCurve: () => 'That is not an issuer key: the point is not on the Baby Jubjub curve',
  IssuerRegistry__ZeroLeaf: () => 'Zero is not an issuer',
  IssuerRegistry__IssuerExists: () => 'This issuer is already accredited',
  IssuerRegistry__UnknownIssuer: () => 'This issuer is not accredited (never added, or already removed)',
  IssuerRegistry__TreeFull: ([max]) => `The issuers tree is full: at most ${String(max)} issuers can ever be added (removed ones included)`,
  IssuerRegistry__WrongSiblings: () => 'The Merkle path given for this issuer does not match the tree on chain (rebuild it from the registry events)',
  EligibilityVerifier__ZeroAddress: () => 'The eligibility verifier needs a Groth16 verifier, an issuer registry and an admin',
  EligibilityVerifier__UnknownRoot: () =>
    'The proof was made against a list of accredited issuers that changed more than an hour ago: make a new proof',
  EligibilityVerifier__WrongCriteria: () => "The proof is for other eligibility criteria than this study's",
  EligibilityVerifier__ProofTooOld: ([time, now]) =>
    `The proof was made for ${isoTime(time)}, more than an hour before the chain's time (${isoTime(now)}): make a new proof`,
  EligibilityVerifier__ProofFromFuture: ([time, now]) =>
    `The proof is dated ${isoTime(time)}, more than 5 minutes after the chain's time (${isoTime(now)}): check this device's clock`,
  EligibilityVerifier__NullifierUsed: () => 'This person is already enrolled in this study (the proof\'s nullifier was used before)',
  EligibilityVerifier__InputOutOfField: ([index]) => `Public input ${String(index)} of the proof is outside the field`,
  EligibilityVerifier__InvalidProof: () =>
    'The proof does not verify: it was altered, or made for another study or another enrolling address',
  StudyRegistry__ZeroAddress: () => 'The study registry needs an eligibility verifier, a consent token and an organisation registry',
  StudyRegistry__ZeroConsentDuration: () => 'A study needs a consent duration',
  StudyRegistry__InvalidCohort: ([k, max]) =>
    `The minimum cohort must be at least 1 and the maximum of participants at least that (given ${String(k)} and ${String(max)})`,
  StudyRegistry__PriceWithoutToken: () => 'A study with a price needs a payment token',
  StudyRegistry__NotIrb: () => 'Only an accredited institutional review board may decide on a study',
  StudyRegistry__NotResearcher: ([id]) => `Only the researcher of study #${String(id)} may do this`,
  StudyRegistry__WrongStatus: ([id, status]) => `Study #${String(id)} is ${STUDY_STATUS_WORDS[Number(status)] ?? 'in another state'}, which does not allow this`,
  ConsentToken__NonTransferable: () => 'Consent tokens cannot be transferred',
  ConsentToken__ApprovalsDisabled: () => 'Consent tokens cannot be approved to an operator',
  ConsentToken__ZeroAddress: () => 'The zero address cannot hold consent',
  ConsentToken__AlreadyGranted: ([id]) => `This address already held consent to study #${String(id)}`,
  ConsentToken__InvalidExpiry: () => 'A consent must expire in the future',
  ConsentToken__NotHeld: ([id]) => `This address holds no consent to study #${String(id)}`,
  ConsentToken__HooksAlreadySet: () => "The consent token's hooks are already set",
  StudyRegistry__InvalidCriteriaHash: () => 'The criteria hash must be a non-zero field element (compile the criteria with the sdk)',
  StudyRegistry__UnknownStudy: ([id]) => `There is no study #${String(id)}`,
  StudyRegistry__AlreadyEnrolled: ([id]) => `This address is already enrolled in study #${String(id)}`,
  StudyRegistry__StudyFull: ([id]) => `Study #${String(id)} cannot take more participants`,
  StudyMarket__NotPurchasable: ([id]) => `Study #${String(id)} is not for sale: it is not approved and open, or has no price`,
  StudyMarket__PurchasePending: ([id, pid]) => `Purchase #${String(pid)} of study #${String(id)} is already waiting for the committee: it must be confirmed or refunded first`,
  StudyMarket__CohortTooSmall: ([id, active, k]) => `Study #${String(id)} has ${String(active)} active participants, fewer than its minimum cohort of ${String(k)}: no sale that could single anyone out`,
  StudyMarket__InvalidPrice: ([id]) => `Study #${String(id)}'s price times its cohort does not fit`,
  StudyMarket__TransferShortfall: ([expected, received]) => `The token moved ${String(received)} units, not the ${String(expected)} the purchase costs`,
  StudyMarket__NotPending: ([pid]) => `Purchase #${String(pid)} is not pending (it was confirmed or refunded)`,
  StudyMarket__DeadlinePassed: ([pid, deadline]) => `Purchase #${String(pid)}'s confirmation deadline passed at ${new Date(Number(deadline) * 1000).toISOString()}; the buyer may take the refund`,
  StudyMarket__DeadlineNotPassed: ([pid, deadline]) => `Purchase #${String(pid)} can be refunded only after its confirmation deadline, ${new Date(Number(deadline) * 1000).toISOString()}`,
  StudyMarket__NotEnoughSignatures: ([given, k]) => `${String(given)} committee signatures given; ${String(k)} are needed`,
  StudyMarket__NotCommitteeMember: ([signer]) => `${String(signer)} is not a member of the release committee`,
  StudyMarket__SignersNotAscending: () => 'The committee signatures must be ordered by ascending signer address, each signer once',
  StudyMarket__ZeroReleaseHash: () => 'A confirmation needs a release hash',
  StudyMarket__NothingToClaim: ([id, holder]) => `${String(holder)} has nothing to claim in study #${String(id)}`,
  PatientRegistry__AlreadyRegistered: () => 'This wallet is already registered as a patient',
  PatientRegistry__NotRegistered: ([patient]) => `${String(patient)} is not a registered patient account`,
  PatientRegistry__InvalidKey: () => 'That is not a usable X25519 encryption key',
  PatientRegistry__SameKey: () => 'The new encryption key is the one already in force',
  PatientRegistry__ControlsAccount: () => 'This wallet already controls a patient account (it was recovered to it), so it cannot register another',
  PatientRegistry__NotController: () =>
    'This wallet controls no patient account: it never registered, or the account was recovered to another wallet (sign in with that one)',
  PatientRegistry__InvalidGuardianCount: ([count]) => `Name between 2 and 10 guardians (${String(count)} given)`,
  PatientRegistry__InvalidThreshold: ([threshold, count]) =>
    `The number of guardians who must approve a recovery must be at least 2 and at most the ${String(count)} guardians named (given ${String(threshold)})`,
  PatientRegistry__InvalidGuardian: ([guardian]) =>
    `${String(guardian)} cannot be a guardian: guardians must be distinct, non-zero, and neither this account nor the wallet that controls it`,
  PatientRegistry__InvalidRecoveryDelay: () => 'The recovery waiting period must be between 1 and 30 days',
  PatientRegistry__NoPendingGuardianChange: () => 'There is no pending guardian change',
  PatientRegistry__GuardianChangeNotReady: ([, effectiveAt]) => `The guardian change can be applied only from ${isoTime(effectiveAt)}`,
  PatientRegistry__RecoveryActive: ([, nonce]) =>
    `Recovery #${String(nonce)} of this account is under way: it must be completed or cancelled first`,
  PatientRegistry__NoGuardians: () => 'This account has named no guardians, so it cannot be recovered',
  PatientRegistry__NotGuardian: ([, caller]) => `${String(caller)} is not a guardian of this account`,
  PatientRegistry__InvalidNewController: ([wallet]) =>
    `${String(wallet)} cannot take over the account: the new wallet must be a fresh one (not registered, controlling no account, not a guardian)`,
  PatientRegistry__NoActiveRecovery: () => 'This account has no recovery under way',
  PatientRegistry__WrongRecovery: ([, nonce, active]) =>
    `Recovery #${String(nonce)} is no longer the one under way (that is #${String(active)}): it was cancelled or replaced`,
  PatientRegistry__AlreadyApproved: ([, nonce]) => `You already approved recovery #${String(nonce)}`,
  PatientRegistry__NotEnoughApprovals: ([, count, threshold]) =>
    `The recovery has ${String(count)} of the ${String(threshold)} guardian approvals it needs`,
  PatientRegistry__RecoveryNotReady: ([, readyAt]) =>
    `The recovery's waiting period runs until ${isoTime(readyAt)}; it can be completed from then (until it completes, the old wallet can still cancel it)`,
};

/** The custom error a revert carries, decoded against every Consentry contract. */
export function revertOf(err: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (reverted?.data?.errorName) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
    if (reverted?.raw) {
      try {
        const d = decodeErrorResult({ abi: ALL_ABIS, data: reverted.raw });
        return { errorName: d.errorName, args: d.args ?? [] };
      } catch {
        // not one of ours
      }
    }
  }
  return undefined;
}

/** A contract's refusal in words, or undefined when `err` is not a decoded revert. */
export function describeRevert(err: unknown): string | undefined {
  const r = revertOf(err);
  if (!r) return undefined;
  return ERROR_WORDS[r.errorName]?.(r.args) ?? `The contract refused the request (${r.errorName})`;
}

const GAS: Record<string, bigint> = {
  register: 300_000n,
  accredit: 150_000n,
  requestAccess: 300_000n,
  approve: 250_000n,
  deny: 120_000n,
  cancelRequest: 120_000n,
  revoke: 120_000n,
  setPolicy: 120_000n,
  breakGlass: 250_000n,
  closeBreakGlass: 120_000n,
};

async function send(ctx: ActionContext, address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Promise<ActionResult> {
  const account = ctx.wallet.account;
  try {
    await ctx.client.simulateContract({ address, abi, functionName, args, account } as Parameters<PublicClient['simulateContract']>[0]);
  } catch (err) {
    const words = describeRevert(err);
    if (words) throw new ActionRefusedError(revertOf(err)!.errorName, words);
    throw err;
  }
  const hash = await ctx.wallet.writeContract({ address, abi, functionName, args, account, chain: ctx.wallet.chain ?? null, gas: GAS[functionName] ?? 500_000n } as Parameters<typeof ctx.wallet.writeContract>[0]);
  const receipt = await ctx.client.waitForTransactionReceipt({ hash, timeout: ctx.timeoutMs ?? 120_000 });
  if (receipt.status !== 'success') throw new ActionRefusedError('Reverted', `The ${functionName} transaction was reverted on chain`, hash);
  const block = await ctx.client.getBlock({ blockNumber: receipt.blockNumber });
  const events = parseEventLogs({ abi: ALL_ABIS, logs: receipt.logs }).map((l) => ({ eventName: l.eventName, args: l.args as Record<string, unknown> }));
  return { hash, blockNumber: receipt.blockNumber, blockTimestamp: block.timestamp, events };
}

const grants = (ctx: ActionContext) => ctx.contracts.AccessGrants;
const orgs = (ctx: ActionContext) => ctx.contracts.OrganizationRegistry;

/** Registers the wallet's organisation; it stays pending until an accreditor accredits it. */
export function registerOrganization(ctx: ActionContext, o: { kind: OrganizationKind; name: string; metadata?: string }): Promise<ActionResult> {
  if (!o.name.trim()) throw new ActionRefusedError('OrganizationRegistry__ZeroNameHash', 'The organisation needs a name');
  return send(ctx, orgs(ctx), organizationRegistryAbi, 'register', [kindIndex(o.kind), textHash(o.name.trim()), textHash(o.metadata ?? '')]);
}

/** Accredits (or renews) an organisation until `until` (seconds); needs ACCREDITOR_ROLE. */
export function accreditOrganization(ctx: ActionContext, o: { organization: Address; until: number }): Promise<ActionResult> {
  return send(ctx, orgs(ctx), organizationRegistryAbi, 'accredit', [o.organization, BigInt(o.until)]);
}

/** Asks a patient for categories; resolves with the new request's id. */
export async function requestAccess(
  ctx: ActionContext,
  r: { patient: Address; categories: readonly Category[]; purpose: PurposeCode; durationSeconds: number },
): Promise<ActionResult & { requestId: bigint }> {
  const result = await send(ctx, grants(ctx), accessGrantsAbi, 'requestAccess', [r.patient, categoryMask(r.categories), purposeIndex(r.purpose), r.durationSeconds]);
  const created = result.events.find((e) => e.eventName === 'RequestCreated');
  return { ...result, requestId: created ? (created.args.requestId as bigint) : 0n };
}

/** The patient approves a request, possibly for fewer categories or a shorter time. */
export function approveRequest(ctx: ActionContext, a: { requestId: bigint; categories: readonly Category[]; durationSeconds: number }): Promise<ActionResult> {
  return send(ctx, grants(ctx), accessGrantsAbi, 'approve', [a.requestId, categoryMask(a.categories), a.durationSeconds]);
}

export function denyRequest(ctx: ActionContext, requestId: bigint): Promise<ActionResult> {
  return send(ctx, grants(ctx), accessGrantsAbi, 'deny', [requestId]);
}

export function cancelRequest(ctx: ActionContext, requestId: bigint): Promise<ActionResult> {
  return send(ctx, grants(ctx), accessGrantsAbi, 'cancelRequest', [requestId]);
}

/** Revokes the patient's grant to `grantee`: every release after this block is refused. */
export function revokeGrant(ctx: ActionContext, grantee: Address): Promise<ActionResult> {
  return send(ctx, grants(ctx), accessGrantsAbi, 'revoke', [grantee]);
}

/** The patient's standing policy: categories never shared, organisation kinds never allowed. */
export function setPolicy(ctx: ActionContext, p: { neverShare: readonly Category[]; bannedKinds: readonly OrganizationKind[] }): Promise<ActionResult> {
  const kinds = p.bannedKinds.reduce((m, k) => m | (1 << kindIndex(k)), 0);
  return send(ctx, grants(ctx), accessGrantsAbi, 'setPolicy', [categoryMask(p.neverShare), kinds]);
}

/** An accredited emergency provider opens the patient's emergency categories; only the reason's hash goes on chain. */
export function breakGlass(ctx: ActionContext, b: { patient: Address; reason: string; durationSeconds?: number }): Promise<ActionResult> {
  if (!b.reason.trim()) throw new ActionRefusedError('AccessGrants__ZeroReason', 'Break-glass needs a reason');
  return send(ctx, grants(ctx), accessGrantsAbi, 'breakGlass', [b.patient, textHash(b.reason.trim()), b.durationSeconds ?? 0]);
}

export function closeBreakGlass(ctx: ActionContext, c: { patient: Address; provider: Address }): Promise<ActionResult> {
  return send(ctx, grants(ctx), accessGrantsAbi, 'closeBreakGlass', [c.patient, c.provider]);
}

/** What the chain says now about one patient and one organisation: grant, break-glass, policy. */
export async function readAccess(client: PublicClient, contracts: AccessContracts, patient: Address, grantee: Address) {
  const [grant, window, policy, live, block] = await Promise.all([
    client.readContract({ address: contracts.AccessGrants, abi: accessGrantsAbi, functionName: 'grantOf', args: [patient, grantee] }),
    client.readContract({ address: contracts.AccessGrants, abi: accessGrantsAbi, functionName: 'breakGlassOf', args: [patient, grantee] }),
    client.readContract({ address: contracts.AccessGrants, abi: accessGrantsAbi, functionName: 'policyOf', args: [patient] }),
    client.readContract({ address: contracts.AccessGrants, abi: accessGrantsAbi, functionName: 'liveCategories', args: [patient, grantee] }),
    client.getBlock({ blockTag: 'latest' }),
  ]);
  return {
    now: block.timestamp,
    grant: { categories: categoriesOf(grant.categories), purpose: purposeCode(Number(grant.purpose)), expiresAt: grant.expiresAt, requestId: grant.requestId, live: grant.expiresAt > block.timestamp },
    breakGlass: { categories: categoriesOf(window.categories), openedAt: window.openedAt, expiresAt: window.expiresAt, open: window.expiresAt > block.timestamp },
    policy: { neverShare: categoriesOf(policy.neverShare), bannedKinds: ORGANIZATION_KINDS.filter((_, i) => (policy.bannedKinds & (1 << i)) !== 0).map((k) => k.code) },
    /** The categories a release may cover right now (grant and break-glass, less the policy). */
    liveCategories: categoriesOf(live),
  };
}

/** An organisation as the registry stores it. */
export async function readOrganization(client: PublicClient, contracts: AccessContracts, organization: Address) {
  const o = await client.readContract({ address: contracts.OrganizationRegistry, abi: organizationRegistryAbi, functionName: 'organizationOf', args: [organization] });
  const accredited = await client.readContract({ address: contracts.OrganizationRegistry, abi: organizationRegistryAbi, functionName: 'isAccredited', args: [organization] });
  return { registered: o.registeredAt > 0n, kind: kindCode(o.kind), accredited, accreditedUntil: o.accreditedUntil, nameHash: o.nameHash, metadataHash: o.metadataHash };
}
