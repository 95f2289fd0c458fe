/**
 * The IRB reviewer's side of /irb, in the browser: whether the connected wallet is an accredited
 * institutional review board, its decision on a study (approve, reject, suspend) with the rationale
 * stored content-addressed and its SHA-256 on chain, and the consent-trail audit of any study read
 * from the chain alone (sdk research/audit), with its totals checked against their identities in
 * words and the cohort over time for the chart. Nothing here needs the server but the rationale's
 * storage (POST /api/documents, a signed-in wallet).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { erc20Abi, formatUnits, zeroAddress, type Address, type Hex, type PublicClient } from 'viem';
import type { Config } from 'wagmi';
import { getWalletClient } from 'wagmi/actions';
import { readOrganization } from '@consentry/sdk/access/actions';
import { auditBundle, checkAuditTrail, studyAuditTrail, type AuditBundle, type AuditEvent, type AuditTotals, type AuditTrail } from '@consentry/sdk/research/audit';
import { approveStudy, readStudy, rejectStudy, suspendStudy, type StudyStatus, type ZkContext } from '@consentry/sdk/zk/chain';
import { chainClient } from './clinical.client.ts';
import type { PublicConfig } from './public-config.ts';
import { ensureSession } from './records.client.ts';

export type Contracts = NonNullable<PublicConfig['contracts']>;

// ------------------------------------------------------------------------------- who may decide

export interface IrbStanding {
  /** Whether StudyRegistry would accept this account's decision: a registered IRB, accredited now. */
  canDecide: boolean;
  /** Where the account stands, in words. */
  words: string;
}

/** The connected account's standing as a reviewer, read on chain (OrganizationRegistry). */
export async function irbStanding(client: PublicClient, contracts: Contracts, account: Address): Promise<IrbStanding> {
  if (!contracts.OrganizationRegistry || !contracts.AccessGrants) {
    return { canDecide: false, words: 'This deployment has no organisation registry, so no review board can be recognised.' };
  }
  const o = await readOrganization(client, { OrganizationRegistry: contracts.OrganizationRegistry, AccessGrants: contracts.AccessGrants }, account);
  return standingWords(o);
}

/** The words for an organisation's standing as a reviewer (pure, for the test). */
export function standingWords(o: { registered: boolean; kind: string; accredited: boolean }): IrbStanding {
  if (!o.registered) {
    return { canDecide: false, words: 'This account is not a registered organisation. Only an accredited institutional review board may approve, reject or suspend a study: register it as one on Organisations and have it accredited.' };
  }
  if (o.kind !== 'irb') {
    return { canDecide: false, words: 'This account is registered as another kind of organisation, not an institutional review board, so it may not decide on studies. Anyone may still audit a study below.' };
  }
  if (!o.accredited) {
    return { canDecide: false, words: 'This institutional review board is not accredited right now (pending, suspended or expired), so it may not decide on studies until an accreditor accredits it.' };
  }
  return { canDecide: true, words: 'This account is an accredited institutional review board: it may approve, reject or suspend studies.' };
}

// --------------------------------------------------------------------------------- the decision

export type Decision = 'approve' | 'reject' | 'suspend';

/** Which decisions a study's status allows (StudyRegistry: approve and reject a Pending study; suspend an Approved or Paused one). */
export function decisionsFor(status: StudyStatus): Decision[] {
  if (status === 'Pending') return ['approve', 'reject'];
  if (status === 'Approved' || status === 'Paused') return ['suspend'];
  return [];
}

/** SHA-256 of the rationale's UTF-8 bytes, as it goes on chain (0x, lowercase). */
export const rationaleHash = (text: string): Hex => `0x${bytesToHex(sha256(new TextEncoder().encode(text)))}`;

/**
 * Stores the rationale (signing in first if needed) and answers its hash, checked here against the
 * text: the chain must carry the hash of what the reviewer wrote, not whatever the server answered.
 */
export async function storeRationale(wagmi: Config, account: Address, chainId: number, text: string): Promise<Hex> {
  await ensureSession(wagmi, account, chainId);
  const res = await fetch('/api/documents', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'text', text }),
  });
  const body = (await res.json().catch(() => null)) as { hash?: string; error?: { message?: string } } | null;
  if (!res.ok || !body?.hash) throw new Error(`The rationale could not be stored: ${body?.error?.message ?? `the server answered ${res.status}`}`);
  const expected = rationaleHash(text);
  if (body.hash.toLowerCase() !== expected) throw new Error(`The server stored the rationale under ${body.hash}, not its SHA-256 ${expected}; nothing was sent to the chain`);
  return expected;
}

/** The sdk's study actions, from the connected wallet. */
export async function studyContext(wagmi: Config, config: PublicConfig): Promise<ZkContext> {
  const c = config.contracts;
  if (!c?.StudyRegistry || !c.IssuerRegistry || !c.EligibilityVerifier) throw new Error('This deployment has no study contracts (StudyRegistry)');
  const wallet = await getWalletClient(wagmi, { chainId: config.chainId });
  return {
    wallet: wallet as unknown as ZkContext['wallet'],
    client: chainClient(wagmi, config.chainId),
    contracts: { StudyRegistry: c.StudyRegistry, IssuerRegistry: c.IssuerRegistry, EligibilityVerifier: c.EligibilityVerifier },
  };
}

/** Sends the decision; resolves with its transaction once mined (an ActionRefusedError in words when the contract refuses). */
export function sendDecision(ctx: ZkContext, decision: Decision, studyId: bigint, hash: Hex) {
  const act = decision === 'approve' ? approveStudy : decision === 'reject' ? rejectStudy : suspendStudy;
  return act(ctx, studyId, hash);
}

export const DECISION_WORDS: Record<Decision, { button: string; done: string; busy: string }> = {
  approve: { button: 'Approve', done: 'Approved', busy: 'Approving' },
  reject: { button: 'Reject', done: 'Rejected', busy: 'Rejecting' },
  suspend: { button: 'Suspend', done: 'Suspended', busy: 'Suspending' },
};

// ------------------------------------------------------------------------------------ the terms

export interface StudyTerms {
  status: StudyStatus;
  price: string;
  minCohort: number;
  maxParticipants: number;
  consentDuration: bigint;
  categories: bigint;
  irb: Address;
  decidedAt: number;
  /** The payment token's decimals and symbol (for the audit's amounts); null for a free study. */
  token: { decimals: number; symbol: string } | null;
}

/** A study's terms as StudyRegistry holds them, the price in the token's units. */
export async function readTerms(client: PublicClient, contracts: Contracts, studyId: bigint): Promise<StudyTerms> {
  if (!contracts.StudyRegistry) throw new Error('This deployment has no StudyRegistry');
  const s = await readStudy(client, { StudyRegistry: contracts.StudyRegistry }, studyId);
  if (!s) throw new Error(`There is no study #${studyId} on this chain`);
  let token: StudyTerms['token'] = null;
  if (s.paymentToken !== zeroAddress) {
    const [decimals, symbol] = await Promise.all([
      client.readContract({ address: s.paymentToken, abi: erc20Abi, functionName: 'decimals' }),
      client.readContract({ address: s.paymentToken, abi: erc20Abi, functionName: 'symbol' }).catch(() => 'tokens'),
    ]);
    token = { decimals, symbol };
  }
  return {
    status: s.status,
    price: s.pricePerParticipant === 0n || !token ? 'free' : `${formatUnits(s.pricePerParticipant, token.decimals)} ${token.symbol}`,
    minCohort: s.minCohort,
    maxParticipants: s.maxParticipants,
    consentDuration: s.consentDuration,
    categories: s.categories,
    irb: s.irb,
    decidedAt: Number(s.decidedAt),
    token,
  };
}

/** An amount (decimal string in base units) in the token's units, or as is when the study is free. */
export function amountText(value: string, token: StudyTerms['token']): string {
  return token ? `${formatUnits(BigInt(value), token.decimals)} ${token.symbol}` : value;
}

// ------------------------------------------------------------------------------------ the audit

export interface Audit {
  trail: AuditTrail;
  bundle: AuditBundle;
  /** What checkAuditTrail finds wrong with the trail, in words (empty when it is consistent). */
  problems: string[];
}

/** One study's audit at the latest block, from the deployment's first block. */
export async function loadAudit(client: PublicClient, config: PublicConfig, studyId: bigint): Promise<Audit> {
  const c = config.contracts;
  if (!c?.StudyRegistry || !c.ConsentToken || !c.StudyMarket) throw new Error('This deployment has no research market (StudyRegistry, ConsentToken, StudyMarket), so there is no trail to audit');
  const trail = await studyAuditTrail(client, { StudyRegistry: c.StudyRegistry, ConsentToken: c.ConsentToken, StudyMarket: c.StudyMarket }, studyId, { fromBlock: BigInt(config.startBlock) });
  return { trail, bundle: auditBundle(trail), problems: checkAuditTrail(trail) };
}

export interface Reconciliation {
  name: string;
  /** The identity with its numbers, in words. */
  text: string;
  ok: boolean;
}

/**
 * The totals' identities the issue asks an auditor to see, each with its numbers and whether it
 * holds: active = enrolled − revoked − expired (and the consent token agrees), and
 * paid = claimed + claimable + refunded + escrowed (escrowed: purchases still pending).
 */
export function reconcile(t: AuditTotals, amount: (v: string) => string = (v) => v): Reconciliation[] {
  const paidSum = BigInt(t.claimed) + BigInt(t.claimable) + BigInt(t.refunded) + BigInt(t.escrowed);
  const escrow = BigInt(t.escrowed) > 0n ? ` + escrowed ${amount(t.escrowed)}` : '';
  return [
    {
      name: 'Active consents',
      text: `active ${t.active} = enrolled ${t.enrolled} − revoked ${t.revoked} − expired ${t.expired}`,
      ok: t.active === t.enrolled - t.revoked - t.expired,
    },
    {
      name: 'Consent tokens',
      text: `active by the events ${t.active} = active on the consent token ${t.activeOnChain}`,
      ok: t.active === t.activeOnChain,
    },
    {
      name: 'Payments',
      text: `paid ${amount(t.paid)} = claimed ${amount(t.claimed)} + claimable ${amount(t.claimable)} + refunded ${amount(t.refunded)}${escrow}`,
      ok: BigInt(t.paid) === paidSum,
    },
  ];
}

export interface CohortPoint {
  /** Unix seconds. */
  time: number;
  enrolled: number;
  active: number;
}

/** Enrolments and active participants after each event that changes them, in chain order (for the chart). */
export function cohortSeries(events: readonly AuditEvent[]): CohortPoint[] {
  const points: CohortPoint[] = [];
  let enrolled = 0;
  let active = 0;
  for (const e of events) {
    if (e.kind === 'enrolled') {
      enrolled++;
      active++;
    } else if (e.kind === 'revoked' || e.kind === 'expired') {
      active--;
    } else {
      continue;
    }
    points.push({ time: e.timestamp, enrolled, active });
  }
  return points;
}

/** What one event is about, in a table cell: the participant, holder, IRB or purchase. */
export function eventSubject(e: AuditEvent): string {
  if ('participant' in e) return e.participant;
  if ('holder' in e) return e.holder;
  if ('irb' in e) return e.irb;
  if (e.kind === 'purchased') return `purchase ${e.purchaseId} by ${e.buyer}`;
  if ('purchaseId' in e) return `purchase ${e.purchaseId}`;
  if (e.kind === 'created') return e.researcher;
  return '';
}

/** The amount an event moves, as a decimal string in base units, or null. */
export function eventAmount(e: AuditEvent): string | null {
  return 'amount' in e ? e.amount : null;
}

/** A file for the browser to save. */
export function download(name: string, data: string | Uint8Array<ArrayBuffer>, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
