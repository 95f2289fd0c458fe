/**
 * "Who saw my records", checked: a patient's releases (from the index, which follows every release
 * gateway's public log) against the access-log roots the gateways posted on ReleaseCommittee.
 *
 * Each entry is
 *   - `proven`  its Merkle proof verifies against a root its gateway's member posted on chain;
 *   - `pending` not in a posted root yet (gateways post every few seconds; `ageMs` says how long);
 *   - `altered` its proof fails, or the root it names was not posted by that member.
 * Each root (those the entries name, and every root posted since the patient registered, so an entry
 * deleted with all its neighbours still shows) gets `missing` = the entry count the member posted on
 * chain minus the entries the index holds for it (any patient's): more than zero means entries were
 * left out, perhaps the patient's.
 * Entries are grouped into reads: one requester, one record version, within READ_WINDOW_MS, across
 * gateways (each of the k gateways a requester asks logs its own entry). A read asks each gateway
 * once, so a second entry from a member the read already has starts the next read.
 *
 * Browser-safe: viem only. The leaf is OpenZeppelin StandardMerkleTree's (keccak256 of keccak256 of
 * the ABI encoding, sorted pairs), computed here so no Node-only dependency reaches the bundle; a
 * test checks it against @openzeppelin/merkle-tree.
 */
import { concat, encodeAbiParameters, getAddress, keccak256, type Address, type Hex, type PublicClient } from 'viem';
import { releaseCommitteeAbi } from '../abi/generated.ts';
import { ConsentryError } from '../errors.ts';
import { graphqlRequest } from '../graphql.ts';
import { categoryBit, type Category } from '../records/categories.ts';

/** The gateways' leaf: [entryId, requester, patient, recordId, version, category (its bit), purpose, releasedAt (ms)]. */
export const RELEASE_LOG_ENCODING = ['bytes32', 'address', 'address', 'bytes32', 'uint32', 'uint8', 'uint8', 'uint64'] as const;
/** Entries of one requester for one record version this close together are one read (a read's requests go out at once). */
export const READ_WINDOW_MS = 30_000;

type Numeric = number | bigint | string;

/** A Release as the index serves it (BigInt fields may be decimal strings). */
export interface ReleaseEntry {
  id: string;
  member: string;
  seq: Numeric;
  entryId: string;
  requester: string;
  patient: string;
  recordId: string;
  version: number;
  category: string;
  purpose: number;
  /** Unix ms. */
  releasedAt: Numeric;
  batchRoot: string | null;
  proof: readonly string[] | null;
}

/** A LogRoot as the index serves it, with `held`: how many releases the index holds for it. */
export interface PostedRoot {
  member: string;
  root: string;
  count: Numeric;
  held: number;
  blockNumber?: Numeric;
  blockTimestamp?: Numeric;
  transactionHash?: string;
}

export type ReleaseStatus = 'proven' | 'pending' | 'altered';

export interface CheckedRelease {
  id: string;
  member: Address;
  seq: number;
  entryId: Hex;
  requester: Address;
  patient: Address;
  recordId: Hex;
  version: number;
  category: string;
  purpose: number;
  releasedAt: number;
  batchRoot: Hex | null;
  status: ReleaseStatus;
  /** Why an entry is altered, in words. */
  reason?: string;
  /** For pending entries: ms since the release. */
  ageMs?: number;
}

export interface RootCheck {
  member: Address;
  root: Hex;
  /** Entries the member said the root holds (on chain), or null when the index has no such root. */
  count: number | null;
  held: number;
  missing: number;
  /** Whether the chain says the member posted it (null: not asked; the index's LogRoot was used). */
  postedOnChain: boolean | null;
  postedAt: number | null;
}

export interface Read {
  requester: Address;
  patient: Address;
  recordId: Hex;
  version: number;
  category: string;
  purpose: number;
  /** Earliest release of the read, unix ms. */
  at: number;
  /** Committee members whose gateways released (and logged) a share for this read. */
  members: Address[];
  entries: CheckedRelease[];
  /** altered if any entry is, else pending if any is, else proven. */
  status: ReleaseStatus;
}

export interface AccessLogCheck {
  /** Newest first. */
  entries: CheckedRelease[];
  roots: RootCheck[];
  /** Newest first. */
  reads: Read[];
  summary: { proven: number; pending: number; altered: number; missing: number };
}

const lower = (s: string) => s.toLowerCase() as Hex;

/** StandardMerkleTree's leaf hash of one log entry. */
/** What a leaf covers: every field a patient is shown about a release. */
export type ReleaseLeafFields = Pick<ReleaseEntry, 'entryId' | 'requester' | 'patient' | 'recordId' | 'version' | 'category' | 'purpose' | 'releasedAt'>;

/** A log entry as the leaf's values, in RELEASE_LOG_ENCODING order (what StandardMerkleTree.of takes). Throws on an unknown category. */
export function releaseLeafValues(entry: ReleaseLeafFields): [Hex, Address, Address, Hex, number, number, number, bigint] {
  return [entry.entryId as Hex, getAddress(entry.requester), getAddress(entry.patient), entry.recordId as Hex, Number(entry.version), categoryBit(entry.category as Category), Number(entry.purpose), BigInt(entry.releasedAt)];
}

/** The leaf as StandardMerkleTree hashes it: keccak256(keccak256(abi.encode(values))). */
export function releaseLeaf(entry: ReleaseLeafFields): Hex {
  return keccak256(keccak256(encodeAbiParameters(RELEASE_LOG_ENCODING.map((type) => ({ type })), releaseLeafValues(entry))));
}

function hashPair(a: Hex, b: Hex): Hex {
  const [x, y] = lower(a) < lower(b) ? [a, b] : [b, a];
  return keccak256(concat([x, y]));
}

/** Whether `proof` takes the entry's leaf to `root` (StandardMerkleTree.verify). */
export function verifyReleaseProof(entry: ReleaseLeafFields, root: string, proof: readonly string[]): boolean {
  let node: Hex;
  try {
    node = releaseLeaf(entry);
  } catch {
    return false;
  }
  for (const p of proof) node = hashPair(node, p as Hex);
  return lower(node) === lower(root);
}

const rootKey = (member: string, root: string) => `${member.toLowerCase()}:${root.toLowerCase()}`;

export interface CheckAccessLogOptions {
  releases: readonly ReleaseEntry[];
  /** LogRoots with `held` counts: those the releases name and any others to check (loadAccessLog gives them). */
  roots: readonly PostedRoot[];
  /** When given, every root is confirmed with ReleaseCommittee.wasPostedBy(root, member). */
  client?: PublicClient;
  committee?: Address;
  now?: number;
}

/** Checks every entry and root and groups the entries into reads (see the file header). */
export async function checkAccessLog(options: CheckAccessLogOptions): Promise<AccessLogCheck> {
  const now = options.now ?? Date.now();
  if (options.client && !options.committee) throw new ConsentryError('ACCESS_LOG_CONFIG', 'Checking roots on chain needs the ReleaseCommittee address');
  const indexed = new Map(options.roots.map((r) => [rootKey(r.member, r.root), r]));
  const named = new Map<string, { member: Address; root: Hex }>();
  for (const r of options.roots) named.set(rootKey(r.member, r.root), { member: getAddress(r.member), root: lower(r.root) });
  for (const e of options.releases) {
    if (e.batchRoot) named.set(rootKey(e.member, e.batchRoot), { member: getAddress(e.member), root: lower(e.batchRoot) });
  }
  const onChain = new Map<string, boolean>();
  if (options.client) {
    const keys = [...named.keys()];
    const answers = await Promise.all(
      keys.map((k) => {
        const { member, root } = named.get(k)!;
        return options.client!.readContract({ address: options.committee!, abi: releaseCommitteeAbi, functionName: 'wasPostedBy', args: [root, member] });
      }),
    );
    keys.forEach((k, i) => onChain.set(k, answers[i]!));
  }

  const entries: CheckedRelease[] = options.releases.map((e) => {
    const base = {
      id: e.id,
      member: getAddress(e.member),
      seq: Number(e.seq),
      entryId: lower(e.entryId),
      requester: getAddress(e.requester),
      patient: getAddress(e.patient),
      recordId: lower(e.recordId),
      version: e.version,
      category: e.category,
      purpose: e.purpose,
      releasedAt: Number(e.releasedAt),
      batchRoot: e.batchRoot ? lower(e.batchRoot) : null,
    };
    if (!e.batchRoot) return { ...base, status: 'pending' as const, ageMs: Math.max(0, now - base.releasedAt) };
    const key = rootKey(e.member, e.batchRoot);
    const posted = options.client ? onChain.get(key) === true : indexed.has(key);
    if (!posted) return { ...base, status: 'altered' as const, reason: `The root ${e.batchRoot} was never posted by ${base.member}` };
    if (!e.proof || !verifyReleaseProof(e, e.batchRoot, e.proof)) {
      return { ...base, status: 'altered' as const, reason: `The entry does not match the root ${base.member} posted (its fields or proof were changed)` };
    }
    return { ...base, status: 'proven' as const };
  });

  const roots: RootCheck[] = [...named.entries()].map(([key, { member, root }]) => {
    const r = indexed.get(key);
    const count = r ? Number(r.count) : null;
    const held = r?.held ?? 0;
    return {
      member,
      root,
      count,
      held,
      missing: count === null ? 0 : Math.max(0, count - held),
      postedOnChain: options.client ? onChain.get(key) === true : null,
      postedAt: r?.blockTimestamp !== undefined ? Number(r.blockTimestamp) : null,
    };
  });

  entries.sort((a, b) => b.releasedAt - a.releasedAt || a.member.localeCompare(b.member));
  const reads = groupReads(entries);
  const count = (s: ReleaseStatus) => entries.filter((e) => e.status === s).length;
  return {
    entries,
    roots,
    reads,
    summary: { proven: count('proven'), pending: count('pending'), altered: count('altered'), missing: roots.reduce((n, r) => n + r.missing, 0) },
  };
}

/** Groups checked entries into reads, newest first (see READ_WINDOW_MS). */
export function groupReads(entries: readonly CheckedRelease[], windowMs = READ_WINDOW_MS): Read[] {
  const reads: Read[] = [];
  const open = new Map<string, Read>();
  for (const e of [...entries].sort((a, b) => a.releasedAt - b.releasedAt)) {
    const key = `${e.requester}:${e.recordId}:${e.version}`;
    const current = open.get(key);
    if (current && e.releasedAt - current.at <= windowMs && !current.members.includes(e.member)) {
      current.entries.push(e);
      current.members.push(e.member);
      continue;
    }
    const read: Read = {
      requester: e.requester,
      patient: e.patient,
      recordId: e.recordId,
      version: e.version,
      category: e.category,
      purpose: e.purpose,
      at: e.releasedAt,
      members: [e.member],
      entries: [e],
      status: 'proven',
    };
    open.set(key, read);
    reads.push(read);
  }
  for (const r of reads) {
    r.status = r.entries.some((e) => e.status === 'altered') ? 'altered' : r.entries.some((e) => e.status === 'pending') ? 'pending' : 'proven';
  }
  return reads.sort((a, b) => b.at - a.at);
}

const RELEASE_FIELDS = 'id member seq entryId requester patient recordId version category purpose releasedAt batchRoot proof';
export const PATIENT_RELEASES_QUERY = `query PatientReleases($patient: Bytes!, $first: Int!, $skip: Int!) {
  releases(where: { patient: $patient }, orderBy: releasedAt, orderDirection: desc, first: $first, skip: $skip) { ${RELEASE_FIELDS} }
}`;
export const LOG_ROOTS_QUERY = `query LogRoots($patient: ID!, $roots: [Bytes!]!, $first: Int!, $skip: Int!) {
  patient(id: $patient) { registeredAtBlock }
  named: logRoots(where: { root_in: $roots }, first: $first, skip: $skip) { member root count blockNumber blockTimestamp transactionHash }
}`;
export const LOG_ROOTS_SINCE_QUERY = `query LogRootsSince($since: BigInt!, $first: Int!, $skip: Int!) {
  logRoots(where: { blockNumber_gte: $since }, orderBy: blockNumber, first: $first, skip: $skip) { member root count blockNumber blockTimestamp transactionHash }
}`;
export const RELEASES_IN_ROOTS_QUERY = `query ReleasesInRoots($roots: [Bytes!]!, $first: Int!, $skip: Int!) {
  releases(where: { batchRoot_in: $roots }, orderBy: id, first: $first, skip: $skip) { member batchRoot }
}`;

const PAGE = 1000;

async function paged<T>(fetchPage: (first: number, skip: number) => Promise<T[]>, limit = 100_000): Promise<T[]> {
  const all: T[] = [];
  for (let skip = 0; skip < limit; skip += PAGE) {
    const page = await fetchPage(PAGE, skip);
    all.push(...page);
    if (page.length < PAGE) break;
  }
  return all;
}

/**
 * A patient's releases, the roots to check (those the releases name and every root posted since the
 * patient registered) and how many entries the index holds for each, from the embedded indexer's
 * GraphQL (releases are indexer-only: The Graph does not have them).
 */
export async function loadAccessLog(
  graphqlUrl: string,
  patient: Address,
  options: { fetchImpl?: typeof fetch } = {},
): Promise<{ releases: ReleaseEntry[]; roots: PostedRoot[] }> {
  const opts = options.fetchImpl ? { fetchImpl: options.fetchImpl } : {};
  const releases = await paged(async (first, skip) =>
    (await graphqlRequest<{ releases: ReleaseEntry[] }>(graphqlUrl, PATIENT_RELEASES_QUERY, { patient: patient.toLowerCase(), first, skip }, opts)).releases,
  );
  const namedIds = [...new Set(releases.flatMap((r) => (r.batchRoot ? [r.batchRoot.toLowerCase()] : [])))];
  type Root = Omit<PostedRoot, 'held'>;
  let since: string | null = null;
  const named = await paged(async (first, skip) => {
    const data = await graphqlRequest<{ patient: { registeredAtBlock: string } | null; named: Root[] }>(
      graphqlUrl,
      LOG_ROOTS_QUERY,
      { patient: patient.toLowerCase(), roots: namedIds, first, skip },
      opts,
    );
    since = data.patient?.registeredAtBlock ?? null;
    return data.named;
  });
  const later = since === null ? [] : await paged(async (first, skip) =>
    (await graphqlRequest<{ logRoots: Root[] }>(graphqlUrl, LOG_ROOTS_SINCE_QUERY, { since, first, skip }, opts)).logRoots,
  );
  const roots = new Map<string, Root>();
  for (const r of [...named, ...later]) roots.set(rootKey(r.member, r.root), r);
  const rootIds = [...new Set([...roots.values()].map((r) => r.root.toLowerCase()))];
  const inRoots = rootIds.length === 0 ? [] : await paged(async (first, skip) =>
    (await graphqlRequest<{ releases: Array<{ member: string; batchRoot: string }> }>(graphqlUrl, RELEASES_IN_ROOTS_QUERY, { roots: rootIds, first, skip }, opts)).releases,
  );
  const held = new Map<string, number>();
  for (const r of inRoots) held.set(rootKey(r.member, r.batchRoot), (held.get(rootKey(r.member, r.batchRoot)) ?? 0) + 1);
  return { releases, roots: [...roots.values()].map((r) => ({ ...r, held: held.get(rootKey(r.member, r.root)) ?? 0 })) };
}
