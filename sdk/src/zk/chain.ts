/**
 * The on-chain side of zero-knowledge eligibility, browser-safe (docs/decisions/020-on-chain-eligibility.md):
 * issuer accreditors add and remove issuer keys in IssuerRegistry's tree, researchers create
 * studies (with their terms: docs/decisions/022-studies-and-consent-tokens.md), accredited IRBs
 * approve, reject or suspend them, researchers pause, resume or close them, participants enroll
 * with a proof and their sealed extract's hash. Like the access actions (../access/actions.ts), every
 * transaction is simulated first (a refusal becomes the contract's custom error in words before
 * anyone pays), sent with an explicit gas limit, and returned with its decoded events.
 *
 * Gas is never estimated for enroll: the Groth16 verifier answers "invalid" rather than reverting
 * when short of gas, so an estimate converges on a limit at which the proof fails.
 */
import {
  parseEventLogs,
  zeroAddress,
  zeroHash,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { z } from 'zod';
import { consentTokenAbi, eligibilityVerifierAbi, issuerRegistryAbi, studyRegistryAbi } from '../abi/generated.ts';
import { ActionRefusedError, ALL_ABIS, describeRevert, revertOf, type ActionResult } from '../access/actions.ts';
import { ConsentryError } from '../errors.ts';
import { issuersTree } from './issuers-tree.ts';
import type { EligibilityProofBundle } from './prove.ts';

/** What enrollment needs of a proof: exactly what proveEligibility returns. */
export type EnrollmentProof = EligibilityProofBundle;

export interface ZkContracts {
  IssuerRegistry: Address;
  StudyRegistry: Address;
  EligibilityVerifier: Address;
  /** The study registry's ConsentToken (needed by the consent functions only). */
  ConsentToken?: Address;
}

export interface ZkContext {
  wallet: WalletClient<Transport, Chain | undefined, Account>;
  client: PublicClient;
  contracts: ZkContracts;
  /** Receipt wait limit (default 120 s). */
  timeoutMs?: number;
}

/** Where to start reading registry events: the deployment's start block (default 0). */
export interface ReadFrom {
  fromBlock?: bigint;
}

/**
 * The issuers tree rebuilt from IssuerRegistry's events does not give the root the contract holds:
 * an event was missed (too late a `fromBlock`, a pruned node) or the registry is not the one expected.
 */
export class IssuersRootMismatchError extends ConsentryError {
  constructor(
    readonly rebuilt: bigint,
    readonly onChain: bigint,
  ) {
    super(
      'ISSUERS_ROOT_MISMATCH',
      `The issuers tree rebuilt from the registry's events has root ${rebuilt}, but the registry's root is ${onChain}: ` +
        'some events were not read (check the start block and the RPC node)',
    );
    this.name = 'IssuersRootMismatchError';
  }
}

/**
 * Explicit gas limits (measured figures in decision 020). addIssuer: the leaf's Poseidon and one per
 * level where the new leaf is a right child (at most ~280k, the 256th issuer); removeIssuer walks the
 * path to check it, then the LeanIMT walks it twice more (~500k at depth 8); enroll: the Groth16
 * pairing and the checks, with a wide margin because the verifier fails quietly when short.
 */
export const ZK_GAS = {
  addIssuer: 400_000n,
  removeIssuer: 900_000n,
  // A study is ten storage slots (~260k measured): a margin, not an estimate.
  createStudy: 400_000n,
  approve: 150_000n,
  reject: 150_000n,
  suspend: 150_000n,
  pause: 100_000n,
  resume: 100_000n,
  close: 100_000n,
  enroll: 1_500_000n,
  // A burn and the market's hook (its accounts settle a holder in O(1)).
  revoke: 250_000n,
} as const;

async function send(
  ctx: ZkContext,
  address: Address,
  abi: Abi,
  functionName: keyof typeof ZK_GAS,
  args: readonly unknown[],
  explain?: (errorName: string, words: string) => string,
): Promise<ActionResult> {
  const account = ctx.wallet.account;
  const gas = ZK_GAS[functionName];
  try {
    await ctx.client.simulateContract({ address, abi, functionName, args, account, gas } as Parameters<PublicClient['simulateContract']>[0]);
  } catch (err) {
    const words = describeRevert(err);
    if (words) {
      const { errorName } = revertOf(err)!;
      throw new ActionRefusedError(errorName, explain?.(errorName, words) ?? words);
    }
    throw err;
  }
  const hash = await ctx.wallet.writeContract({ address, abi, functionName, args, account, chain: ctx.wallet.chain ?? null, gas } as Parameters<typeof ctx.wallet.writeContract>[0]);
  const receipt = await ctx.client.waitForTransactionReceipt({ hash, timeout: ctx.timeoutMs ?? 120_000 });
  if (receipt.status !== 'success') throw new ActionRefusedError('Reverted', `The ${functionName} transaction was reverted on chain`, hash);
  const block = await ctx.client.getBlock({ blockNumber: receipt.blockNumber });
  const events = parseEventLogs({ abi: ALL_ABIS, logs: receipt.logs }).map((l) => ({ eventName: l.eventName, args: l.args as Record<string, unknown> }));
  return { hash, blockNumber: receipt.blockNumber, blockTimestamp: block.timestamp, events };
}

const eventArgs = (result: ActionResult, eventName: string): Record<string, unknown> => {
  const e = result.events.find((x) => x.eventName === eventName);
  if (!e) throw new ConsentryError('EVENT_MISSING', `The transaction ${result.hash} emitted no ${eventName}`);
  return e.args;
};

// ------------------------------------------------------------------ issuers

/** Accredits an issuer: its public key's leaf joins the tree. Needs ISSUER_ACCREDITOR_ROLE. */
export async function addIssuer(
  ctx: ZkContext,
  publicKey: readonly [bigint, bigint],
): Promise<ActionResult & { index: number; leaf: bigint; root: bigint }> {
  const result = await send(ctx, ctx.contracts.IssuerRegistry, issuerRegistryAbi, 'addIssuer', [publicKey[0], publicKey[1]]);
  const a = eventArgs(result, 'IssuerAdded');
  return { ...result, index: Number(a.index as bigint), leaf: a.leaf as bigint, root: a.root as bigint };
}

/**
 * Removes an issuer (its leaf becomes 0). The Merkle path the contract needs is rebuilt from the
 * registry's events, which are checked against the on-chain root first. Needs ISSUER_ACCREDITOR_ROLE.
 */
export async function removeIssuer(ctx: ZkContext, leaf: bigint, from: ReadFrom = {}): Promise<ActionResult & { root: bigint }> {
  const { leaves } = await readIssuerLeaves(ctx.client, ctx.contracts, from);
  const index = leaf === 0n ? -1 : leaves.indexOf(leaf);
  if (index < 0) throw new ActionRefusedError('IssuerRegistry__UnknownIssuer', 'This issuer is not accredited (never added, or already removed)');
  const { siblings } = issuersTree(leaves).generateProof(index);
  const result = await send(ctx, ctx.contracts.IssuerRegistry, issuerRegistryAbi, 'removeIssuer', [leaf, siblings]);
  return { ...result, root: eventArgs(result, 'IssuerRemoved').root as bigint };
}

/**
 * Every leaf of the issuers tree, in order (0 for a removed issuer), rebuilt from IssuerAdded and
 * IssuerRemoved events, and the root, checked: the rebuilt tree's root must equal the registry's
 * at the same block, or IssuersRootMismatchError. This is what a prover needs (issuerMerkleProof)
 * and what an auditor checks.
 */
export async function readIssuerLeaves(
  client: PublicClient,
  contracts: Pick<ZkContracts, 'IssuerRegistry'>,
  from: ReadFrom = {},
): Promise<{ leaves: bigint[]; root: bigint; blockNumber: bigint }> {
  // cacheTime 0: viem otherwise answers from a cache up to a polling interval old, and a tree read
  // at a stale block gives siblings that no longer match (removeIssuer right after addIssuer).
  const blockNumber = await client.getBlockNumber({ cacheTime: 0 });
  const address = contracts.IssuerRegistry;
  const logs = await client.getLogs({
    address,
    events: issuerRegistryAbi.filter((x) => x.type === 'event' && (x.name === 'IssuerAdded' || x.name === 'IssuerRemoved')),
    fromBlock: from.fromBlock ?? 0n,
    toBlock: blockNumber,
    strict: true,
  });
  // getLogs returns them in chain order; sorted anyway, since the tree depends on it.
  logs.sort((x, y) => (x.blockNumber === y.blockNumber ? x.logIndex - y.logIndex : x.blockNumber < y.blockNumber ? -1 : 1));
  const leaves: bigint[] = [];
  for (const log of logs) {
    const index = Number(log.args.index);
    if (log.eventName === 'IssuerAdded') leaves[index] = log.args.leaf;
    else leaves[index] = 0n;
  }
  const onChain = await client.readContract({ address, abi: issuerRegistryAbi, functionName: 'root', blockNumber });
  const size = await client.readContract({ address, abi: issuerRegistryAbi, functionName: 'size', blockNumber });
  const rebuilt = leaves.length === 0 ? 0n : issuersTree(leaves).root;
  if (leaves.length !== Number(size) || leaves.some((l) => l === undefined) || rebuilt !== onChain) {
    throw new IssuersRootMismatchError(rebuilt, onChain);
  }
  return { leaves, root: onChain, blockNumber };
}

/** Whether a proof may name `root` now: the current root, or one superseded less than an hour ago. */
export function isKnownRoot(client: PublicClient, contracts: Pick<ZkContracts, 'IssuerRegistry'>, root: bigint): Promise<boolean> {
  return client.readContract({ address: contracts.IssuerRegistry, abi: issuerRegistryAbi, functionName: 'isKnownRoot', args: [root] });
}

// ------------------------------------------------------------------ studies

/** Where a study stands (IStudyRegistry.Status, in its order). */
export const STUDY_STATUSES = ['Pending', 'Approved', 'Rejected', 'Paused', 'Closed', 'Suspended'] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];

const hash32 = z.custom<Hex>((v) => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v), 'must be a 32-byte hex hash');
const address20 = z.custom<Address>((v) => typeof v === 'string' && /^0x[0-9a-fA-F]{40}$/.test(v), 'must be a 20-byte hex address');
const uint = (bits: number) => z.bigint().nonnegative().lt(1n << BigInt(bits), `must fit in ${bits} bits`);

/**
 * What a researcher registers (IStudyRegistry.StudyParams). Only the two hashes of issue 6 are
 * required; the rest default to a free study with no token (price 0), no categories, a year's
 * consent, k = 1 and no practical maximum, so a study registered without terms still works.
 */
export const studyParamsSchema = z
  .object({
    metadataHash: hash32,
    criteriaHash: z.bigint().positive(),
    protocolHash: hash32.default(zeroHash),
    consentHash: hash32.default(zeroHash),
    categories: uint(256).default(0n),
    paymentToken: address20.default(zeroAddress),
    pricePerParticipant: uint(256).default(0n),
    /** Seconds. */
    consentDuration: uint(64).positive().default(365n * 24n * 3600n),
    minCohort: z.number().int().min(1).max(2 ** 32 - 1).default(1),
    maxParticipants: z.number().int().min(1).max(2 ** 32 - 1).default(2 ** 32 - 1),
  })
  .refine((p) => p.maxParticipants >= p.minCohort, { message: 'maxParticipants must be at least minCohort', path: ['maxParticipants'] })
  .refine((p) => p.pricePerParticipant === 0n || p.paymentToken !== zeroAddress, { message: 'a price needs a payment token', path: ['paymentToken'] });
export type StudyParamsInput = z.input<typeof studyParamsSchema>;
export type StudyParams = z.output<typeof studyParamsSchema>;

/** Registers a study (Pending until an accredited IRB approves it); the wallet's account is its researcher. */
export async function createStudy(ctx: ZkContext, input: StudyParamsInput): Promise<ActionResult & { studyId: bigint }> {
  const parsed = studyParamsSchema.safeParse(input);
  if (!parsed.success) throw new ConsentryError('STUDY_PARAMS_INVALID', `The study's terms are not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const result = await send(ctx, ctx.contracts.StudyRegistry, studyRegistryAbi, 'createStudy', [parsed.data]);
  return { ...result, studyId: eventArgs(result, 'StudyCreated').studyId as bigint };
}

/** An accredited IRB approves a pending study (it opens for enrollment), with its rationale's hash. */
export function approveStudy(ctx: ZkContext, studyId: bigint, rationaleHash: Hex): Promise<ActionResult> {
  return send(ctx, ctx.contracts.StudyRegistry, studyRegistryAbi, 'approve', [studyId, rationaleHash]);
}

/** An accredited IRB rejects a pending study (final), with its rationale's hash. */
export function rejectStudy(ctx: ZkContext, studyId: bigint, rationaleHash: Hex): Promise<ActionResult> {
  return send(ctx, ctx.contracts.StudyRegistry, studyRegistryAbi, 'reject', [studyId, rationaleHash]);
}

/** An accredited IRB suspends an approved or paused study (final), with its rationale's hash. */
export function suspendStudy(ctx: ZkContext, studyId: bigint, rationaleHash: Hex): Promise<ActionResult> {
  return send(ctx, ctx.contracts.StudyRegistry, studyRegistryAbi, 'suspend', [studyId, rationaleHash]);
}

/** The researcher pauses an approved study (no enrollment until resumed). */
export function pauseStudy(ctx: ZkContext, studyId: bigint): Promise<ActionResult> {
  return send(ctx, ctx.contracts.StudyRegistry, studyRegistryAbi, 'pause', [studyId]);
}

/** The researcher resumes a paused study. */
export function resumeStudy(ctx: ZkContext, studyId: bigint): Promise<ActionResult> {
  return send(ctx, ctx.contracts.StudyRegistry, studyRegistryAbi, 'resume', [studyId]);
}

/** The researcher closes a pending, approved or paused study (final; consents given stand). */
export function closeStudy(ctx: ZkContext, studyId: bigint): Promise<ActionResult> {
  return send(ctx, ctx.contracts.StudyRegistry, studyRegistryAbi, 'close', [studyId]);
}

export interface StudyOnChain extends Omit<StudyParams, 'consentDuration'> {
  studyId: bigint;
  researcher: Address;
  status: StudyStatus;
  createdAt: bigint;
  participantCount: number;
  consentDuration: bigint;
  /** The deciding IRB (zero address while Pending). */
  irb: Address;
  /** 0 while Pending. */
  decidedAt: bigint;
}

/** A study as StudyRegistry stores it, or undefined if there is none with this id. */
export async function readStudy(client: PublicClient, contracts: Pick<ZkContracts, 'StudyRegistry'>, studyId: bigint): Promise<StudyOnChain | undefined> {
  const s = await client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'studyOf', args: [studyId] });
  if (s.createdAt === 0n) return undefined;
  const status = STUDY_STATUSES[s.status];
  if (!status) throw new ConsentryError('STUDY_STATUS_UNKNOWN', `Study #${studyId} has status ${s.status}, which this sdk does not know`);
  return {
    studyId,
    researcher: s.researcher,
    status,
    createdAt: s.createdAt,
    participantCount: s.participantCount,
    minCohort: s.minCohort,
    maxParticipants: s.maxParticipants,
    consentDuration: s.consentDuration,
    paymentToken: s.paymentToken,
    irb: s.irb,
    decidedAt: s.decidedAt,
    pricePerParticipant: s.pricePerParticipant,
    categories: s.categories,
    metadataHash: s.metadataHash,
    protocolHash: s.protocolHash,
    consentHash: s.consentHash,
    criteriaHash: s.criteriaHash,
  };
}

/** The proof as a contract takes it (the EligibilityProof struct, contracts/src/types/EligibilityProof.sol). */
export function eligibilityProofArgs(bundle: EnrollmentProof) {
  if (bundle.proof.length !== 8) throw new ConsentryError('PROOF_INVALID', `A proof has 8 numbers, not ${bundle.proof.length}`);
  return {
    issuersRoot: bundle.issuersRoot,
    criteriaHash: bundle.criteriaHash,
    time: bundle.time,
    nullifier: bundle.nullifier,
    proof: [...bundle.proof] as unknown as readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint],
  };
}

/**
 * Enrolls the wallet's account in an approved `studyId` with a proof made for this study and this
 * account (the recipient), registering the hash of its sealed de-identified extract (zero while
 * there is none); the account is minted the study's consent token. The contract judges; when it
 * refuses a proof that names another recipient or study, the words say which.
 */
export async function enroll(
  ctx: ZkContext,
  studyId: bigint,
  bundle: EnrollmentProof,
  extractHash: Hex = zeroHash,
): Promise<ActionResult & { nullifier: bigint; expiresAt: bigint; extractHash: Hex }> {
  const sender = ctx.wallet.account.address;
  const explain = (errorName: string, words: string): string => {
    if (errorName !== 'EligibilityVerifier__InvalidProof') return words;
    if (bundle.recipient.toLowerCase() !== sender.toLowerCase()) {
      return `${words}: this proof was made for ${bundle.recipient}, not for ${sender}, which is enrolling`;
    }
    if (bundle.studyId !== studyId) return `${words}: this proof was made for study #${bundle.studyId}, not #${studyId}`;
    return words;
  };
  const result = await send(ctx, ctx.contracts.StudyRegistry, studyRegistryAbi, 'enroll', [studyId, eligibilityProofArgs(bundle), extractHash], explain);
  const a = eventArgs(result, 'Enrolled');
  return { ...result, nullifier: a.nullifier as bigint, expiresAt: BigInt(a.expiresAt as bigint), extractHash: a.extractHash as Hex };
}

/**
 * Runs every check of enrollment without a transaction (EligibilityVerifier.verify for the study
 * registry): resolves when the proof would be accepted now, throws ActionRefusedError in words otherwise.
 */
export async function checkEnrollment(client: PublicClient, contracts: ZkContracts, studyId: bigint, bundle: EnrollmentProof, participant: Address): Promise<void> {
  const study = await readStudy(client, contracts, studyId);
  if (!study) throw new ActionRefusedError('StudyRegistry__UnknownStudy', `There is no study #${studyId}`);
  try {
    // simulateContract rather than readContract: it takes a gas limit, and the pairing needs enough.
    await client.simulateContract({
      address: contracts.EligibilityVerifier,
      abi: eligibilityVerifierAbi,
      functionName: 'verify',
      args: [contracts.StudyRegistry, studyId, study.criteriaHash, participant, eligibilityProofArgs(bundle)],
      gas: ZK_GAS.enroll,
    } as unknown as Parameters<PublicClient['simulateContract']>[0]);
  } catch (err) {
    const words = describeRevert(err);
    if (words) throw new ActionRefusedError(revertOf(err)!.errorName, words);
    throw err;
  }
}

/** Whether `participant` is enrolled in `studyId`. */
export function isEnrolled(client: PublicClient, contracts: Pick<ZkContracts, 'StudyRegistry'>, studyId: bigint, participant: Address): Promise<boolean> {
  return client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'isEnrolled', args: [studyId, participant] });
}

// ------------------------------------------------------------------ consent

export interface ConsentState {
  /** The holder holds the study's token (minted, not revoked). */
  held: boolean;
  /** It counts now: held, not expired by the chain's time, not revoked. */
  active: boolean;
  /** Unix seconds (0 if never granted). */
  expiresAt: bigint;
  revoked: boolean;
}

const consentTokenOf = (contracts: ZkContracts): Address => {
  if (!contracts.ConsentToken) throw new ConsentryError('CONSENT_TOKEN_MISSING', 'This deployment has no ConsentToken (restart with npm start to deploy it)');
  return contracts.ConsentToken;
};

/** `holder`'s consent to `studyId` as the ConsentToken holds it, at the latest block. */
export async function readConsent(client: PublicClient, contracts: ZkContracts, holder: Address, studyId: bigint): Promise<ConsentState> {
  const address = consentTokenOf(contracts);
  const [balance, active, expiresAt, revoked] = await Promise.all([
    client.readContract({ address, abi: consentTokenAbi, functionName: 'balanceOf', args: [holder, studyId] }),
    client.readContract({ address, abi: consentTokenAbi, functionName: 'isActive', args: [holder, studyId] }),
    client.readContract({ address, abi: consentTokenAbi, functionName: 'expiresAt', args: [holder, studyId] }),
    client.readContract({ address, abi: consentTokenAbi, functionName: 'isRevoked', args: [holder, studyId] }),
  ]);
  return { held: balance === 1n, active, expiresAt: BigInt(expiresAt), revoked };
}

/** The wallet's account revokes its consent to `studyId` (its token is burnt; the market stops paying it). */
export function revokeConsent(ctx: ZkContext, studyId: bigint): Promise<ActionResult> {
  return send(ctx, consentTokenOf(ctx.contracts), consentTokenAbi, 'revoke', [studyId]);
}
