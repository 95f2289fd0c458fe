/**
 * The IRB's consent-trail audit of one study (issue 8, item 3), from the chain alone: every IRB
 * decision, the researcher's pauses and closing, every enrollment (the pseudonymous per-study
 * address and its extract hash), revocation, expiry, purchase, release confirmation, refund and
 * claim, in chain order, and totals that reconcile. Every read is pinned to one audit block, so a
 * trail is a snapshot that can be re-read later and compared field by field.
 *
 * Expiry has no event: a consent token stops counting when the block's time reaches its expiresAt.
 * The trail derives it from the audit block's time and lists it as an `expired` entry with that
 * time and no transaction, placed before any block of the same time (isActive needs time < expiry).
 *
 * The identities the totals satisfy (each checked by checkAuditTrail, offline):
 *   active            = enrolled - revoked - expired    (revoked: revocations before the expiry)
 *   activeOnChain     = active                           (ConsentToken.isActive at the audit block)
 *   participantCount  = enrolled                         (StudyRegistry, revocations do not lower it)
 *   marketActiveCount = enrolled - checkpointedLeft      (the market counts an expired holder until it
 *                                                        checkpoints it: HolderLeft events)
 *   paid              = confirmed + refunded + escrowed  (each purchase is exactly one of them at the
 *                                                        audit block; escrowed = pending purchases)
 *   confirmed         = claimed + claimable              (a confirmed purchase credits each holder of
 *                                                        its cohort its price, owed until claimed)
 * so paid = claimed + claimable + refunded + escrowed; with no purchase pending (escrowed = 0) this
 * is the issue's paid = claimed + claimable + refunded.
 *
 * The bundle is the trail with a version and a SHA-256 over its canonical JSON, so any changed byte
 * is found offline; verifyAuditBundle then re-reads the chain at the audit block when it can.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { getAddress, type Address, type Hex, type PublicClient } from 'viem';
import { z } from 'zod';
import { consentTokenAbi, studyMarketAbi, studyRegistryAbi } from '../abi/generated.ts';
import { ConsentryError } from '../errors.ts';
import { canonicalJson } from '../records/canonical.ts';

export interface AuditContracts {
  StudyRegistry: Address;
  ConsentToken: Address;
  StudyMarket: Address;
}

export const AUDIT_BUNDLE_VERSION = 1;
const STATUS_NAMES = ['Pending', 'Approved', 'Rejected', 'Paused', 'Closed', 'Suspended'] as const;

// ------------------------------------------------------------------------------------ the schema

const address = z.custom<Address>((v) => typeof v === 'string' && /^0x[0-9a-fA-F]{40}$/.test(v), 'must be a 20-byte hex address');
const bytes32 = z.custom<Hex>((v) => typeof v === 'string' && /^0x[0-9a-f]{64}$/.test(v), 'must be 32 bytes as lowercase hex');
const uint = z.string().regex(/^(0|[1-9]\d*)$/, 'must be a whole number in decimal');
const count = z.number().int().nonnegative();
const seconds = z.number().int().nonnegative();

/** Where an event happened: a log on chain, or (an expiry) a time with no transaction. */
const onChain = {
  seq: count,
  blockNumber: uint,
  timestamp: seconds,
  transactionHash: bytes32,
  logIndex: count,
};

const eventSchemas = [
  z.strictObject({ kind: z.literal('created'), ...onChain, researcher: address, protocolHash: bytes32, consentHash: bytes32, criteriaHash: uint }),
  z.strictObject({ kind: z.literal('approved'), ...onChain, irb: address, rationaleHash: bytes32 }),
  z.strictObject({ kind: z.literal('rejected'), ...onChain, irb: address, rationaleHash: bytes32 }),
  z.strictObject({ kind: z.literal('suspended'), ...onChain, irb: address, rationaleHash: bytes32 }),
  z.strictObject({ kind: z.literal('paused'), ...onChain }),
  z.strictObject({ kind: z.literal('resumed'), ...onChain }),
  z.strictObject({ kind: z.literal('closed'), ...onChain, from: z.enum(STATUS_NAMES) }),
  z.strictObject({ kind: z.literal('enrolled'), ...onChain, participant: address, nullifier: uint, extractHash: bytes32, expiresAt: seconds }),
  z.strictObject({ kind: z.literal('revoked'), ...onChain, participant: address }),
  z.strictObject({
    kind: z.literal('expired'),
    seq: count,
    blockNumber: z.null(),
    timestamp: seconds,
    transactionHash: z.null(),
    logIndex: z.null(),
    participant: address,
  }),
  z.strictObject({ kind: z.literal('purchased'), ...onChain, purchaseId: uint, buyer: address, cohort: count, pricePerParticipant: uint, amount: uint, deadline: seconds }),
  z.strictObject({ kind: z.literal('confirmed'), ...onChain, purchaseId: uint, releaseHash: bytes32, rewardPerToken: uint }),
  z.strictObject({ kind: z.literal('refunded'), ...onChain, purchaseId: uint, buyer: address, amount: uint }),
  z.strictObject({ kind: z.literal('claimed'), ...onChain, holder: address, recipient: address, amount: uint }),
] as const;

export const auditEventSchema = z.discriminatedUnion('kind', eventSchemas);
export type AuditEvent = z.infer<typeof auditEventSchema>;
export type AuditEventKind = AuditEvent['kind'];

export const auditHolderSchema = z.strictObject({
  participant: address,
  enrolledAt: seconds,
  expiresAt: seconds,
  /** By the audit block's time: revoked before its expiry, expired, or active. */
  status: z.enum(['active', 'revoked', 'expired']),
  /** ConsentToken.isActive at the audit block. */
  activeOnChain: z.boolean(),
  /** Sum of its claims up to the audit block. */
  claimed: uint,
  /** StudyMarket.claimable at the audit block. */
  claimable: uint,
});
export type AuditHolder = z.infer<typeof auditHolderSchema>;

export const auditTotalsSchema = z.strictObject({
  enrolled: count,
  revoked: count,
  expired: count,
  active: count,
  activeOnChain: count,
  participantCount: count,
  marketActiveCount: count,
  checkpointedLeft: count,
  purchases: count,
  paid: uint,
  confirmed: uint,
  refunded: uint,
  escrowed: uint,
  claimed: uint,
  claimable: uint,
  rewardPerToken: uint,
});
export type AuditTotals = z.infer<typeof auditTotalsSchema>;

const trailShape = {
  chainId: z.number().int().positive(),
  contracts: z.strictObject({ StudyRegistry: address, ConsentToken: address, StudyMarket: address }),
  studyId: uint,
  fromBlock: uint,
  auditBlock: uint,
  auditBlockHash: bytes32,
  auditTime: seconds,
  events: z.array(auditEventSchema),
  holders: z.array(auditHolderSchema),
  totals: auditTotalsSchema,
};

export const auditTrailSchema = z.strictObject(trailShape);
/** One study's audit trail as data (amounts and ids as decimal strings, so it is JSON as it stands). */
export type AuditTrail = z.infer<typeof auditTrailSchema>;

export const auditBundleSchema = z.strictObject({
  version: z.literal(AUDIT_BUNDLE_VERSION),
  ...trailShape,
  /** SHA-256 (hex) of the canonical JSON of every other field. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 32 bytes as lowercase hex, without 0x'),
});
export type AuditBundle = z.infer<typeof auditBundleSchema>;

// ------------------------------------------------------------------------------ the chain reads

type Placeless<T> = T extends unknown ? Omit<T, 'seq' | 'timestamp' | 'blockNumber' | 'transactionHash' | 'logIndex'> : never;
type Located = { blockNumber: bigint; logIndex: number; transactionHash: Hex; event: Placeless<Exclude<AuditEvent, { kind: 'expired' }>> };

function located(log: { blockNumber: bigint | null; logIndex: number | null; transactionHash: Hex | null }, event: Located['event']): Located {
  if (log.blockNumber === null || log.logIndex === null || log.transactionHash === null) {
    throw new ConsentryError('AUDIT_PENDING_LOG', 'The node returned a log without a block: the audit reads mined blocks only');
  }
  return { blockNumber: log.blockNumber, logIndex: log.logIndex, transactionHash: log.transactionHash, event };
}

/** Chain order, with an expiry placed before every block of its time (at that time the token no longer counts). */
function chainOrder(a: AuditEvent, b: AuditEvent): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  if (a.blockNumber === null || b.blockNumber === null) {
    if (a.blockNumber === null && b.blockNumber === null) {
      const [x, y] = [(a as { participant: string }).participant.toLowerCase(), (b as { participant: string }).participant.toLowerCase()];
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a.blockNumber === null ? -1 : 1;
  }
  const d = BigInt(a.blockNumber) - BigInt(b.blockNumber);
  if (d !== 0n) return d < 0n ? -1 : 1;
  return a.logIndex! - b.logIndex!;
}

/**
 * One study's consent trail at `blockNumber` (default: the latest block), read from the chain
 * alone: the events of StudyRegistry, ConsentToken and StudyMarket from `fromBlock` (default 0;
 * give the deployment's first block) to the audit block, each holder's state and the market's
 * counters read at that same block, and the totals.
 */
export async function studyAuditTrail(
  client: PublicClient,
  contracts: AuditContracts,
  studyId: bigint,
  opts: { fromBlock?: bigint; blockNumber?: bigint } = {},
): Promise<AuditTrail> {
  const fromBlock = opts.fromBlock ?? 0n;
  const block = opts.blockNumber === undefined ? await client.getBlock({ blockTag: 'latest' }) : await client.getBlock({ blockNumber: opts.blockNumber });
  if (block.number === null || block.hash === null) throw new ConsentryError('AUDIT_PENDING_BLOCK', 'The audit block is not mined yet');
  const at = block.number;
  if (fromBlock > at) throw new ConsentryError('AUDIT_RANGE', `The audit block ${at} is before the first block read (${fromBlock})`);
  const auditTime = Number(block.timestamp);
  const pinned = { blockNumber: at } as const;
  const range = { fromBlock, toBlock: at, args: { studyId } } as const;

  const study = await client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'studyOf', args: [studyId], ...pinned });
  if (study.createdAt === 0n) throw new ConsentryError('AUDIT_NO_STUDY', `There is no study #${studyId} at block ${at}`);

  const reg = { address: contracts.StudyRegistry, abi: studyRegistryAbi } as const;
  const mkt = { address: contracts.StudyMarket, abi: studyMarketAbi } as const;
  const [created, decided, suspended, statusChanged, enrolled, revoked, purchased, confirmed, refunded, left, claimed] = await Promise.all([
    client.getContractEvents({ ...reg, eventName: 'StudyCreated', ...range }),
    client.getContractEvents({ ...reg, eventName: 'StudyDecided', ...range }),
    client.getContractEvents({ ...reg, eventName: 'StudySuspended', ...range }),
    client.getContractEvents({ ...reg, eventName: 'StudyStatusChanged', ...range }),
    client.getContractEvents({ ...reg, eventName: 'Enrolled', ...range }),
    client.getContractEvents({ address: contracts.ConsentToken, abi: consentTokenAbi, eventName: 'ConsentRevoked', ...range }),
    client.getContractEvents({ ...mkt, eventName: 'Purchased', ...range }),
    client.getContractEvents({ ...mkt, eventName: 'PurchaseConfirmed', ...range }),
    client.getContractEvents({ ...mkt, eventName: 'PurchaseRefunded', ...range }),
    client.getContractEvents({ ...mkt, eventName: 'HolderLeft', ...range }),
    client.getContractEvents({ ...mkt, eventName: 'Claimed', ...range }),
  ]);

  const logs: Located[] = [
    ...created.map((l) =>
      located(l, { kind: 'created', researcher: l.args.researcher!, protocolHash: l.args.params!.protocolHash, consentHash: l.args.params!.consentHash, criteriaHash: l.args.params!.criteriaHash.toString() }),
    ),
    ...decided.map((l) => located(l, { kind: l.args.approved ? 'approved' : 'rejected', irb: l.args.irb!, rationaleHash: l.args.rationaleHash! })),
    ...suspended.map((l) => located(l, { kind: 'suspended', irb: l.args.irb!, rationaleHash: l.args.rationaleHash! })),
    // The researcher's own changes; the IRB's are the decisions and suspensions above.
    ...statusChanged.flatMap((l) => {
      const from = STATUS_NAMES[l.args.from!]!;
      const to = STATUS_NAMES[l.args.to!]!;
      if (to === 'Paused') return [located(l, { kind: 'paused' })];
      if (from === 'Paused' && to === 'Approved') return [located(l, { kind: 'resumed' })];
      if (to === 'Closed') return [located(l, { kind: 'closed', from })];
      return [];
    }),
    ...enrolled.map((l) =>
      located(l, { kind: 'enrolled', participant: l.args.participant!, nullifier: l.args.nullifier!.toString(), extractHash: l.args.extractHash!, expiresAt: Number(l.args.expiresAt!) }),
    ),
    ...revoked.map((l) => located(l, { kind: 'revoked', participant: l.args.holder! })),
    ...purchased.map((l) =>
      located(l, {
        kind: 'purchased',
        purchaseId: l.args.purchaseId!.toString(),
        buyer: l.args.buyer!,
        cohort: Number(l.args.cohort!),
        pricePerParticipant: l.args.pricePerParticipant!.toString(),
        amount: l.args.amount!.toString(),
        deadline: Number(l.args.deadline!),
      }),
    ),
    ...confirmed.map((l) => located(l, { kind: 'confirmed', purchaseId: l.args.purchaseId!.toString(), releaseHash: l.args.releaseHash!, rewardPerToken: l.args.rewardPerToken!.toString() })),
    ...refunded.map((l) => located(l, { kind: 'refunded', purchaseId: l.args.purchaseId!.toString(), buyer: l.args.buyer!, amount: l.args.amount!.toString() })),
    ...claimed.map((l) => located(l, { kind: 'claimed', holder: l.args.holder!, recipient: l.args.to!, amount: l.args.amount!.toString() })),
  ];

  const times = new Map<bigint, number>();
  await inBatches([...new Set(logs.map((l) => l.blockNumber))], async (n) => void times.set(n, Number((await client.getBlock({ blockNumber: n })).timestamp)));
  const events: AuditEvent[] = logs.map(
    (l) => ({ ...l.event, seq: 0, blockNumber: l.blockNumber.toString(), timestamp: times.get(l.blockNumber)!, transactionHash: l.transactionHash, logIndex: l.logIndex }) as AuditEvent,
  );
  for (const e of derivedExpiries(events, auditTime)) events.push(e);
  events.sort(chainOrder);
  events.forEach((e, i) => (e.seq = i));

  const enrollments = events.filter((e): e is Extract<AuditEvent, { kind: 'enrolled' }> => e.kind === 'enrolled');
  const holders = await inBatches(enrollments, async (e): Promise<AuditHolder> => {
    const [activeOnChain, claimable] = await Promise.all([
      client.readContract({ address: contracts.ConsentToken, abi: consentTokenAbi, functionName: 'isActive', args: [e.participant, studyId], ...pinned }),
      client.readContract({ ...mkt, functionName: 'claimable', args: [studyId, e.participant], ...pinned }),
    ]);
    return {
      participant: e.participant,
      enrolledAt: e.timestamp,
      expiresAt: e.expiresAt,
      status: holderStatus(events, e.participant, e.expiresAt, auditTime),
      activeOnChain,
      claimed: sum(events.filter((c) => c.kind === 'claimed' && same(c.holder, e.participant)).map((c) => (c as { amount: string }).amount)).toString(),
      claimable: claimable.toString(),
    };
  });

  const [marketActiveCount, rewardPerToken] = await Promise.all([
    client.readContract({ ...mkt, functionName: 'activeCountOf', args: [studyId], ...pinned }),
    client.readContract({ ...mkt, functionName: 'rewardPerTokenOf', args: [studyId], ...pinned }),
  ]);
  const chainId = await client.getChainId();
  return {
    chainId,
    contracts: { StudyRegistry: getAddress(contracts.StudyRegistry), ConsentToken: getAddress(contracts.ConsentToken), StudyMarket: getAddress(contracts.StudyMarket) },
    studyId: studyId.toString(),
    fromBlock: fromBlock.toString(),
    auditBlock: at.toString(),
    auditBlockHash: block.hash,
    auditTime,
    events,
    holders,
    totals: {
      ...eventTotals(events, holders),
      participantCount: Number(study.participantCount),
      marketActiveCount: Number(marketActiveCount),
      checkpointedLeft: left.length,
      rewardPerToken: rewardPerToken.toString(),
    },
  };
}

/** `run` over `items`, a few requests at a time (an RPC node throttles floods); results in order. */
async function inBatches<T, R>(items: readonly T[], run: (item: T) => Promise<R>, size = 16): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  return results;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const sum = (xs: readonly string[]) => xs.reduce((s, x) => s + BigInt(x), 0n);

/** The time a participant revoked before its expiry, if it did. */
function revokedBefore(events: readonly AuditEvent[], participant: string, expiresAt: number): number | undefined {
  return events.find((r) => r.kind === 'revoked' && same(r.participant, participant) && r.timestamp < expiresAt)?.timestamp;
}

function holderStatus(events: readonly AuditEvent[], participant: string, expiresAt: number, auditTime: number): AuditHolder['status'] {
  if (revokedBefore(events, participant, expiresAt) !== undefined) return 'revoked';
  return expiresAt <= auditTime ? 'expired' : 'active';
}

/** The expiries due by the audit time: enrolled, not revoked before expiresAt, expiresAt <= audit time. */
function derivedExpiries(events: readonly AuditEvent[], auditTime: number): AuditEvent[] {
  return events.flatMap((e) =>
    e.kind === 'enrolled' && holderStatus(events, e.participant, e.expiresAt, auditTime) === 'expired'
      ? [{ kind: 'expired', seq: 0, blockNumber: null, timestamp: e.expiresAt, transactionHash: null, logIndex: null, participant: e.participant } as const]
      : [],
  );
}

/** The totals that follow from the events and the holders alone. */
function eventTotals(events: readonly AuditEvent[], holders: readonly AuditHolder[]) {
  const of = <K extends AuditEventKind>(kind: K) => events.filter((e): e is Extract<AuditEvent, { kind: K }> => e.kind === kind);
  const purchases = of('purchased');
  const confirmedIds = new Set(of('confirmed').map((c) => c.purchaseId));
  const refundedIds = new Set(of('refunded').map((r) => r.purchaseId));
  const amountOf = (ids: (id: string) => boolean) => sum(purchases.filter((p) => ids(p.purchaseId)).map((p) => p.amount));
  const enrolled = holders.length;
  const revoked = holders.filter((h) => h.status === 'revoked').length;
  const expired = holders.filter((h) => h.status === 'expired').length;
  return {
    enrolled,
    revoked,
    expired,
    active: enrolled - revoked - expired,
    activeOnChain: holders.filter((h) => h.activeOnChain).length,
    purchases: purchases.length,
    paid: sum(purchases.map((p) => p.amount)).toString(),
    confirmed: amountOf((id) => confirmedIds.has(id)).toString(),
    refunded: sum(of('refunded').map((r) => r.amount)).toString(),
    escrowed: amountOf((id) => !confirmedIds.has(id) && !refundedIds.has(id)).toString(),
    claimed: sum(of('claimed').map((c) => c.amount)).toString(),
    claimable: sum(holders.map((h) => h.claimable)).toString(),
  };
}

// ------------------------------------------------------------------------------------ the words

const short = (h: string) => `${h.slice(0, 10)}…${h.slice(-4)}`;

/** An event named for a reader: its number, kind, subject and where it is on chain. */
export function nameEvent(e: AuditEvent): string {
  const subject =
    'participant' in e ? ` of ${e.participant}` : 'holder' in e ? ` by ${e.holder}` : 'purchaseId' in e ? ` of purchase ${e.purchaseId}` : 'irb' in e ? ` by IRB ${e.irb}` : '';
  const where = e.blockNumber === null ? `derived at time ${e.timestamp}` : `block ${e.blockNumber}, tx ${short(e.transactionHash)} log ${e.logIndex}`;
  return `event #${e.seq} (${e.kind}${subject}; ${where})`;
}

/** One sentence for a reader of the CSV. */
export function describeEvent(e: AuditEvent): string {
  switch (e.kind) {
    case 'created':
      return `Researcher ${e.researcher} registered the study (protocol ${e.protocolHash}, consent text ${e.consentHash})`;
    case 'approved':
    case 'rejected':
      return `IRB ${e.irb} ${e.kind} the study, rationale ${e.rationaleHash}`;
    case 'suspended':
      return `IRB ${e.irb} suspended the study, rationale ${e.rationaleHash}`;
    case 'paused':
    case 'resumed':
      return `The researcher ${e.kind} enrollment`;
    case 'closed':
      return `The researcher closed the study (it was ${e.from})`;
    case 'enrolled':
      return `Participant ${e.participant} enrolled with a valid eligibility proof, extract ${e.extractHash}, consent until ${iso(e.expiresAt)}`;
    case 'revoked':
      return `Participant ${e.participant} revoked its consent`;
    case 'expired':
      return `The consent of participant ${e.participant} expired (no transaction: by time)`;
    case 'purchased':
      return `Researcher ${e.buyer} bought purchase ${e.purchaseId}: ${e.cohort} participants at ${e.pricePerParticipant}, ${e.amount} in escrow`;
    case 'confirmed':
      return `The release committee confirmed the release of purchase ${e.purchaseId}, release ${e.releaseHash}`;
    case 'refunded':
      return `Purchase ${e.purchaseId} was refunded to ${e.buyer}: ${e.amount}`;
    case 'claimed':
      return `Holder ${e.holder} claimed ${e.amount} to ${e.recipient}`;
  }
}

const iso = (t: number) => new Date(t * 1000).toISOString();

// ----------------------------------------------------------------------------------- the exports

const CSV_FIELDS = [
  'irb', 'rationaleHash', 'researcher', 'participant', 'extractHash', 'nullifier', 'expiresAt', 'purchaseId', 'buyer', 'cohort',
  'pricePerParticipant', 'amount', 'deadline', 'releaseHash', 'rewardPerToken', 'holder', 'recipient',
] as const;
export const AUDIT_CSV_HEADER = ['seq', 'kind', 'time', 'timestamp', 'blockNumber', 'transactionHash', 'logIndex', 'description', ...CSV_FIELDS] as const;

/** RFC 4180: a field with a comma, a double quote, CR or LF is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The trail's events as CSV (RFC 4180: a header, one CRLF-terminated line per event). */
export function auditCsv(trail: Pick<AuditTrail, 'events'>): string {
  const rows = trail.events.map((e) => {
    const fields = e as unknown as Record<string, unknown>;
    return [
      String(e.seq),
      e.kind,
      iso(e.timestamp),
      String(e.timestamp),
      e.blockNumber ?? '',
      e.transactionHash ?? '',
      e.logIndex === null ? '' : String(e.logIndex),
      describeEvent(e),
      ...CSV_FIELDS.map((k) => (fields[k] === undefined ? '' : String(fields[k]))),
    ];
  });
  return [AUDIT_CSV_HEADER as readonly string[], ...rows].map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}

/** SHA-256 (hex) of the canonical JSON of a bundle's fields other than `sha256`. */
export function auditDigest(bundle: Omit<AuditBundle, 'sha256'> & { sha256?: unknown }): string {
  const { sha256: _ignored, ...rest } = bundle;
  return bytesToHex(sha256(new TextEncoder().encode(canonicalJson(rest))));
}

/** The trail as a self-checking JSON bundle. */
export function auditBundle(trail: AuditTrail): AuditBundle {
  const body = { version: AUDIT_BUNDLE_VERSION, ...trail } as const;
  return { ...body, sha256: auditDigest(body) };
}

// ---------------------------------------------------------------------------------- the checks

/**
 * What is wrong with a trail on its own terms, in words (empty when nothing is): events numbered
 * in chain order, each consistent with those before it (a purchase's amount is cohort times price;
 * a confirmation or refund follows its purchase, once; a claim or revocation follows its
 * enrollment), expiries exactly those due by the audit time, holders as the events say, the totals
 * as the events and holders sum up, and the identities of the module comment.
 */
export function checkAuditTrail(trail: AuditTrail): string[] {
  const problems: string[] = [];
  const { events, holders, totals } = trail;

  events.forEach((e, i) => {
    if (e.seq !== i) problems.push(`${nameEvent(e)} is at position ${i}: an event is missing, repeated or moved before it`);
    if (i > 0 && chainOrder(events[i - 1]!, e) > 0) problems.push(`${nameEvent(e)} comes before ${nameEvent(events[i - 1]!)} on chain, not after it`);
    if (e.timestamp > trail.auditTime) problems.push(`${nameEvent(e)} is later (time ${e.timestamp}) than the audit block (time ${trail.auditTime})`);
    if (e.blockNumber !== null && BigInt(e.blockNumber) > BigInt(trail.auditBlock)) problems.push(`${nameEvent(e)} is after the audit block ${trail.auditBlock}`);
  });

  const enrolledAt = new Map<string, Extract<AuditEvent, { kind: 'enrolled' }>>();
  const purchases = new Map<string, { p: Extract<AuditEvent, { kind: 'purchased' }>; settled?: AuditEvent }>();
  let rewardPerToken = 0n;
  let pending: string | undefined;
  for (const [i, e] of events.entries()) {
    const who = 'participant' in e ? e.participant.toLowerCase() : 'holder' in e ? e.holder.toLowerCase() : undefined;
    switch (e.kind) {
      case 'enrolled':
        if (enrolledAt.has(who!)) problems.push(`${nameEvent(e)}: ${e.participant} enrolled twice`);
        enrolledAt.set(who!, e);
        break;
      case 'revoked':
      case 'claimed':
        if (!enrolledAt.has(who!)) problems.push(`${nameEvent(e)}: ${who} has no enrollment before it`);
        break;
      case 'expired': {
        const en = enrolledAt.get(who!);
        if (!en) problems.push(`${nameEvent(e)}: ${e.participant} has no enrollment before it`);
        else if (en.expiresAt !== e.timestamp) problems.push(`${nameEvent(e)}: time is ${e.timestamp}, but the enrollment (${nameEvent(en)}) says the consent expires at ${en.expiresAt}`);
        break;
      }
      case 'purchased':
        if (BigInt(e.amount) !== BigInt(e.cohort) * BigInt(e.pricePerParticipant))
          problems.push(`${nameEvent(e)}: amount is ${e.amount}, but cohort ${e.cohort} × price ${e.pricePerParticipant} is ${BigInt(e.cohort) * BigInt(e.pricePerParticipant)}`);
        {
          // The market checkpoints every expiry due before it prices a purchase, so the cohort is
          // exactly the consents active at that block: enrolled, not revoked, time < expiresAt.
          const revokedSoFar = new Set(events.slice(0, i).flatMap((r) => (r.kind === 'revoked' ? [r.participant.toLowerCase()] : [])));
          const active = [...enrolledAt].filter(([who, en]) => en.expiresAt > e.timestamp && !revokedSoFar.has(who)).length;
          if (active !== e.cohort) problems.push(`${nameEvent(e)}: cohort is ${e.cohort}, but ${active} consents were active then by the events`);
        }
        if (purchases.has(e.purchaseId)) problems.push(`${nameEvent(e)}: purchase ${e.purchaseId} appears twice`);
        if (pending !== undefined) problems.push(`${nameEvent(e)}: purchase ${pending} was still pending (the market allows one at a time)`);
        purchases.set(e.purchaseId, { p: e });
        pending = e.purchaseId;
        break;
      case 'confirmed':
      case 'refunded': {
        const entry = purchases.get(e.purchaseId);
        if (!entry) problems.push(`${nameEvent(e)}: no purchase ${e.purchaseId} before it`);
        else if (entry.settled) problems.push(`${nameEvent(e)}: purchase ${e.purchaseId} was already settled by ${nameEvent(entry.settled)}`);
        else {
          entry.settled = e;
          if (pending === e.purchaseId) pending = undefined;
          if (e.kind === 'refunded' && e.amount !== entry.p.amount) problems.push(`${nameEvent(e)}: amount is ${e.amount}, but ${nameEvent(entry.p)} put ${entry.p.amount} in escrow`);
          if (e.kind === 'confirmed') {
            rewardPerToken += BigInt(entry.p.pricePerParticipant);
            if (BigInt(e.rewardPerToken) !== rewardPerToken) problems.push(`${nameEvent(e)}: rewardPerToken is ${e.rewardPerToken}, but the confirmed prices so far sum to ${rewardPerToken}`);
          }
        }
        break;
      }
    }
  }

  // Expiries: exactly the enrolled consents due by the audit time and not revoked before.
  const expiredListed = new Set(events.filter((e) => e.kind === 'expired').map((e) => e.participant.toLowerCase()));
  for (const en of enrolledAt.values()) {
    const due = holderStatus(events, en.participant, en.expiresAt, trail.auditTime) === 'expired';
    const listed = expiredListed.has(en.participant.toLowerCase());
    if (due && !listed) problems.push(`The consent of ${en.participant} (${nameEvent(en)}) expired at ${en.expiresAt}, before the audit time ${trail.auditTime}, but no expired event says so`);
    if (!due && listed) problems.push(`An expired event for ${en.participant} is listed, but by the events its consent was still active or revoked at the audit time`);
  }

  // Holders: one per enrollment, as the events say.
  const holderOf = new Map(holders.map((h) => [h.participant.toLowerCase(), h]));
  if (holderOf.size !== holders.length) problems.push('A holder is listed twice');
  for (const [who, en] of enrolledAt) {
    const h = holderOf.get(who);
    if (!h) {
      problems.push(`Holder ${en.participant} (${nameEvent(en)}) is missing from the holders`);
      continue;
    }
    const status = holderStatus(events, en.participant, en.expiresAt, trail.auditTime);
    const claimed = sum(events.filter((c) => c.kind === 'claimed' && c.holder.toLowerCase() === who).map((c) => (c as { amount: string }).amount));
    if (h.enrolledAt !== en.timestamp) problems.push(`Holder ${en.participant}: enrolledAt is ${h.enrolledAt}, ${nameEvent(en)} says ${en.timestamp}`);
    if (h.expiresAt !== en.expiresAt) problems.push(`Holder ${en.participant}: expiresAt is ${h.expiresAt}, ${nameEvent(en)} says ${en.expiresAt}`);
    if (h.status !== status) problems.push(`Holder ${en.participant}: status is ${h.status}, the events say ${status}`);
    if (h.activeOnChain !== (status === 'active')) problems.push(`Holder ${en.participant}: ConsentToken.isActive was ${h.activeOnChain} at the audit block, but the events say the consent is ${status}`);
    if (BigInt(h.claimed) !== claimed) problems.push(`Holder ${en.participant}: claimed is ${h.claimed}, its claim events sum to ${claimed}`);
  }
  for (const h of holders) if (!enrolledAt.has(h.participant.toLowerCase())) problems.push(`Holder ${h.participant} has no enrollment event`);

  // Totals: as the events and holders sum up.
  const expected: Record<string, string | number> = { ...eventTotals(events, holders), rewardPerToken: rewardPerToken.toString() };
  for (const [field, value] of Object.entries(expected)) {
    const found = (totals as Record<string, string | number>)[field];
    if (String(found) !== String(value)) problems.push(`Totals: ${field} is ${found}, but the events and holders give ${value}`);
  }

  // The identities.
  const t = totals;
  const identity = (ok: boolean, words: string) => {
    if (!ok) problems.push(`Totals do not reconcile: ${words}`);
  };
  identity(t.active === t.enrolled - t.revoked - t.expired, `active ${t.active} ≠ enrolled ${t.enrolled} − revoked ${t.revoked} − expired ${t.expired}`);
  identity(t.activeOnChain === t.active, `${t.activeOnChain} consents active on chain (ConsentToken.isActive) ≠ ${t.active} active by the events`);
  identity(t.participantCount === t.enrolled, `StudyRegistry's participantCount ${t.participantCount} ≠ enrolled ${t.enrolled}`);
  identity(t.marketActiveCount === t.enrolled - t.checkpointedLeft, `StudyMarket.activeCountOf ${t.marketActiveCount} ≠ enrolled ${t.enrolled} − holders checkpointed as gone ${t.checkpointedLeft}`);
  identity(t.checkpointedLeft >= t.revoked && t.checkpointedLeft <= t.revoked + t.expired, `holders checkpointed as gone ${t.checkpointedLeft} is not between revoked ${t.revoked} and revoked + expired ${t.revoked + t.expired}`);
  identity(BigInt(t.paid) === BigInt(t.confirmed) + BigInt(t.refunded) + BigInt(t.escrowed), `paid ${t.paid} ≠ confirmed ${t.confirmed} + refunded ${t.refunded} + escrowed ${t.escrowed}`);
  identity(BigInt(t.confirmed) === BigInt(t.claimed) + BigInt(t.claimable), `confirmed ${t.confirmed} ≠ claimed ${t.claimed} + claimable ${t.claimable}`);
  return problems;
}

export interface AuditVerification {
  ok: boolean;
  problems: string[];
  /** Whether the chain was re-read at the audit block (false: offline checks only). */
  chainChecked: boolean;
  /** The bundle as read, when it matched the schema. */
  bundle?: AuditBundle;
}

/**
 * Verifies an audit bundle, offline first: its schema, its SHA-256, and checkAuditTrail. Given a
 * client, it then re-reads the chain at the audit block (whose hash must match) and compares every
 * event, holder and total, naming each mismatch (which event, which field, the bundle's value and
 * the chain's). Never passes silently: `ok` is true only with no problem at all.
 */
export async function verifyAuditBundle(input: unknown, opts: { client?: PublicClient } = {}): Promise<AuditVerification> {
  const parsed = auditBundleSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `Not an audit bundle: ${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`);
    return { ok: false, problems, chainChecked: false };
  }
  const bundle = parsed.data;
  const problems: string[] = [];
  const digest = auditDigest(bundle);
  if (digest !== bundle.sha256) problems.push(`The bundle's SHA-256 does not match its content (recorded ${bundle.sha256}, computed ${digest}): it was changed after export`);
  problems.push(...checkAuditTrail(bundle));
  if (!opts.client) return { ok: problems.length === 0, problems, chainChecked: false, bundle };
  problems.push(...(await compareWithChain(bundle, opts.client)));
  return { ok: problems.length === 0, problems, chainChecked: true, bundle };
}

const eventKey = (e: AuditEvent) => (e.kind === 'expired' ? `expired:${e.participant.toLowerCase()}` : `${e.transactionHash}:${e.logIndex}`);

function differences(what: string, bundled: Record<string, unknown>, chain: Record<string, unknown>, skip: readonly string[] = []): string[] {
  const fields = new Set([...Object.keys(bundled), ...Object.keys(chain)]);
  return [...fields]
    .filter((k) => !skip.includes(k) && canonicalJson(bundled[k] ?? null) !== canonicalJson(chain[k] ?? null))
    .map((k) => `${what}: ${k} is ${canonicalJson(bundled[k] ?? null)} in the bundle, the chain says ${canonicalJson(chain[k] ?? null)}`);
}

async function compareWithChain(bundle: AuditBundle, client: PublicClient): Promise<string[]> {
  let chainId: number;
  let fresh: AuditTrail;
  try {
    chainId = await client.getChainId();
    if (chainId !== bundle.chainId) return [`The bundle is of chain ${bundle.chainId}, but the RPC serves chain ${chainId}`];
    const block = await client.getBlock({ blockNumber: BigInt(bundle.auditBlock) });
    if (block.hash !== bundle.auditBlockHash) return [`The audit block ${bundle.auditBlock} has hash ${block.hash} on chain, not ${bundle.auditBlockHash} as the bundle says: another chain, or a reorganisation`];
    fresh = await studyAuditTrail(client, bundle.contracts as AuditContracts, BigInt(bundle.studyId), { fromBlock: BigInt(bundle.fromBlock), blockNumber: BigInt(bundle.auditBlock) });
  } catch (err) {
    return [`Cannot re-read the chain at block ${bundle.auditBlock}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`];
  }
  const problems: string[] = [];
  if (fresh.auditTime !== bundle.auditTime) problems.push(`auditTime is ${bundle.auditTime} in the bundle, the chain says ${fresh.auditTime}`);
  const onChain = new Map(fresh.events.map((e) => [eventKey(e), e]));
  const seen = new Set<string>();
  for (const e of bundle.events) {
    const key = eventKey(e);
    const c = onChain.get(key);
    if (!c) {
      problems.push(`${nameEvent(e)} is not on chain`);
      continue;
    }
    seen.add(key);
    problems.push(...differences(nameEvent(e), e, c, ['seq']));
    if (c.seq !== e.seq) problems.push(`${nameEvent(e)} is event #${c.seq} on chain: an event before it is missing or extra`);
  }
  for (const c of fresh.events) if (!seen.has(eventKey(c))) problems.push(`The chain has ${nameEvent(c)}, which the bundle lacks: ${describeEvent(c)}`);

  const freshHolders = new Map(fresh.holders.map((h) => [h.participant.toLowerCase(), h]));
  for (const h of bundle.holders) {
    const c = freshHolders.get(h.participant.toLowerCase());
    if (!c) problems.push(`Holder ${h.participant} is not enrolled on chain`);
    else problems.push(...differences(`Holder ${h.participant}`, h, c));
    freshHolders.delete(h.participant.toLowerCase());
  }
  for (const c of freshHolders.values()) problems.push(`The chain has holder ${c.participant}, which the bundle lacks`);
  problems.push(...differences('Totals', bundle.totals, fresh.totals));
  return problems;
}
