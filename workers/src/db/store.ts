// The indexer's storage contract, the same for every database (SQLite, PGlite, PostgreSQL).
// Rows use the GraphQL field names of subgraph/schema.graphql: Bytes and ids are lowercase
// 0x-hex strings, BigInt are JS bigints, Int are numbers, references hold the referenced id.
import { ConsentryError } from '@consentry/sdk/errors';
import type * as pg from './schema/pg/index.ts';
import type * as sqlite from './schema/sqlite/index.ts';

export type EntityRows = {
  Patient: typeof sqlite.patient.$inferSelect;
  PatientRegistered: typeof sqlite.patientRegistered.$inferSelect;
  EncryptionKeyRotated: typeof sqlite.encryptionKeyRotated.$inferSelect;
  AnchorBatch: typeof sqlite.anchorBatch.$inferSelect;
  RecordVersion: typeof sqlite.recordVersion.$inferSelect;
  Organization: typeof sqlite.organization.$inferSelect;
  AccessRequest: typeof sqlite.accessRequest.$inferSelect;
  Grant: typeof sqlite.grant.$inferSelect;
  AccessEvent: typeof sqlite.accessEvent.$inferSelect;
  BreakGlass: typeof sqlite.breakGlass.$inferSelect;
  PatientPolicy: typeof sqlite.patientPolicy.$inferSelect;
  CommitteeMember: typeof sqlite.committeeMember.$inferSelect;
  CommitteeEpoch: typeof sqlite.committeeEpoch.$inferSelect;
  LogRoot: typeof sqlite.logRoot.$inferSelect;
  Study: typeof sqlite.study.$inferSelect;
  IrbDecision: typeof sqlite.irbDecision.$inferSelect;
  Enrollment: typeof sqlite.enrollment.$inferSelect;
  ConsentRevocation: typeof sqlite.consentRevocation.$inferSelect;
  Purchase: typeof sqlite.purchase.$inferSelect;
  PurchaseConfirmation: typeof sqlite.purchaseConfirmation.$inferSelect;
  Refund: typeof sqlite.refund.$inferSelect;
  Claim: typeof sqlite.claim.$inferSelect;
  Issuer: typeof sqlite.issuer.$inferSelect;
  Release: typeof sqlite.release.$inferSelect;
};

// Both dialects must give the same row shapes; this fails to compile when they drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const dialectsAgree: Same<EntityRows['Patient'], typeof pg.patient.$inferSelect> &
  Same<EntityRows['PatientRegistered'], typeof pg.patientRegistered.$inferSelect> &
  Same<EntityRows['EncryptionKeyRotated'], typeof pg.encryptionKeyRotated.$inferSelect> &
  Same<EntityRows['AnchorBatch'], typeof pg.anchorBatch.$inferSelect> &
  Same<EntityRows['RecordVersion'], typeof pg.recordVersion.$inferSelect> &
  Same<EntityRows['Organization'], typeof pg.organization.$inferSelect> &
  Same<EntityRows['AccessRequest'], typeof pg.accessRequest.$inferSelect> &
  Same<EntityRows['Grant'], typeof pg.grant.$inferSelect> &
  Same<EntityRows['AccessEvent'], typeof pg.accessEvent.$inferSelect> &
  Same<EntityRows['BreakGlass'], typeof pg.breakGlass.$inferSelect> &
  Same<EntityRows['PatientPolicy'], typeof pg.patientPolicy.$inferSelect> &
  Same<EntityRows['CommitteeMember'], typeof pg.committeeMember.$inferSelect> &
  Same<EntityRows['CommitteeEpoch'], typeof pg.committeeEpoch.$inferSelect> &
  Same<EntityRows['LogRoot'], typeof pg.logRoot.$inferSelect> &
  Same<EntityRows['Study'], typeof pg.study.$inferSelect> &
  Same<EntityRows['IrbDecision'], typeof pg.irbDecision.$inferSelect> &
  Same<EntityRows['Enrollment'], typeof pg.enrollment.$inferSelect> &
  Same<EntityRows['ConsentRevocation'], typeof pg.consentRevocation.$inferSelect> &
  Same<EntityRows['Purchase'], typeof pg.purchase.$inferSelect> &
  Same<EntityRows['PurchaseConfirmation'], typeof pg.purchaseConfirmation.$inferSelect> &
  Same<EntityRows['Refund'], typeof pg.refund.$inferSelect> &
  Same<EntityRows['Claim'], typeof pg.claim.$inferSelect> &
  Same<EntityRows['Issuer'], typeof pg.issuer.$inferSelect> &
  Same<EntityRows['Release'], typeof pg.release.$inferSelect> &
  Same<ReleaseCursor, typeof pg.releaseCursor.$inferSelect> = true;
void dialectsAgree;

export type EntityName = keyof EntityRows;
/** Entities that change after they are written (the schema's `@entity(immutable: false)`). */
export const MUTABLE_ENTITIES = [
  'Patient',
  'Organization',
  'AccessRequest',
  'Grant',
  'BreakGlass',
  'PatientPolicy',
  'CommitteeMember',
  'Study',
  'Purchase',
  'Issuer',
] as const satisfies readonly EntityName[];
/** Event entities, written once (`@entity(immutable: true)`); each has a `blockNumber`. */
export const IMMUTABLE_ENTITIES = [
  'PatientRegistered',
  'EncryptionKeyRotated',
  'AnchorBatch',
  // Written when the batch's manifest is fetched, with the batch's blockNumber (rollback goes by it).
  'RecordVersion',
  'AccessEvent',
  'CommitteeEpoch',
  'LogRoot',
  'IrbDecision',
  'Enrollment',
  'ConsentRevocation',
  'PurchaseConfirmation',
  'Refund',
  'Claim',
] as const satisfies readonly EntityName[];
export type MutableEntityName = (typeof MUTABLE_ENTITIES)[number];
export type ImmutableEntityName = (typeof IMMUTABLE_ENTITIES)[number];
export type ChainEntityName = MutableEntityName | ImmutableEntityName;
/** The entities indexed from chain events: the subgraph's, compared by the parity test. */
export const ENTITY_NAMES: readonly ChainEntityName[] = [...MUTABLE_ENTITIES, ...IMMUTABLE_ENTITIES];
/**
 * Entities from off-chain sources (the gateways' release logs): indexer-only, not in the subgraph,
 * described in workers/src/indexer/offchain.graphql. Re-indexing the chain and reorgs leave them alone.
 */
export const OFFCHAIN_ENTITIES = ['Release'] as const satisfies readonly EntityName[];
export type OffchainEntityName = (typeof OFFCHAIN_ENTITIES)[number];
/** Everything GraphQL serves. */
export const ALL_ENTITY_NAMES: readonly EntityName[] = [...ENTITY_NAMES, ...OFFCHAIN_ENTITIES];

/** Where the release follower is in one gateway's feed. */
export type ReleaseCursor = typeof sqlite.releaseCursor.$inferSelect;

export type EntityValue = string | number | bigint | boolean | null;
export type EntityRow = Record<string, EntityValue>;

/** A block the indexer has seen: number, hash (lowercase hex) and timestamp (seconds). */
export type BlockRef = { number: number; hash: string; timestamp: number };

/** Which chain and contracts the stored data was indexed from. */
export type ChainIdentity = {
  chainId: number;
  /** PatientRegistry. */
  contractAddress: string;
  /** RecordAnchor, or null when the deployment has none. */
  anchorAddress: string | null;
  /** OrganizationRegistry, AccessGrants and ReleaseCommittee, each null when the deployment has none. */
  organizationRegistryAddress: string | null;
  accessGrantsAddress: string | null;
  releaseCommitteeAddress: string | null;
  startBlock: number;
  startBlockHash: string;
};

export type IndexerState = ChainIdentity & { checkpoint: BlockRef | null };

/** The state of a mutable entity before `blockNumber` changed it; null: it did not exist yet. */
export type UndoEntry = {
  blockNumber: number;
  entity: MutableEntityName;
  id: string;
  previous: EntityRow | null;
};

/** A batch manifest still to fetch (see indexer_manifest in schema/<dialect>/indexer.ts). */
export type PendingManifest = {
  /** AnchorBatch id (the root). */
  batch: string;
  /** sha2-256 digest, lowercase 0x-hex. */
  manifest: string;
  leafCount: number;
  blockNumber: number;
  attempts: number;
  /** Unix ms. */
  nextAttemptAt: number;
};

/** Everything one page of blocks writes. A store applies it in one transaction. */
export type PageWrite = {
  checkpoint: BlockRef;
  /** Hashes to remember for reorg detection (the checkpoint's block among them). */
  blocks: BlockRef[];
  /** New event rows, per entity (an entity left out has none). */
  inserts: { [E in ImmutableEntityName]?: EntityRows[E][] };
  /** Final state after the page of every mutable entity it touched (an entity left out: none). */
  upserts: { [E in MutableEntityName]?: EntityRows[E][] };
  undo: UndoEntry[];
  /** Manifests of the batches anchored in the page, to fetch. */
  manifests: PendingManifest[];
  /** Forget block hashes and undo entries of blocks below this number (they are final). */
  pruneBelow: number;
};

/** deleted: event rows and entities created after the target block; restored: entities put back. */
export type RollbackSummary = { deleted: number; restored: number };

export type FilterOp = 'eq' | 'not' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'not_in';
export type Filter =
  | { field: string; op: FilterOp; value: EntityValue | EntityValue[] }
  | { and: Filter[] }
  | { or: Filter[] };

export type ListQuery = {
  where?: Filter[];
  orderBy?: string;
  orderDirection?: 'asc' | 'desc';
  first: number;
  skip: number;
};

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data lives, safe to log (no credentials). */
  readonly location: string;
  readState(): Promise<IndexerState | null>;
  /** Empties every entity and bookkeeping table and records a new chain identity. */
  resetState(identity: ChainIdentity): Promise<void>;
  /** Current rows of a mutable entity, for handlers that update them. */
  load<E extends MutableEntityName>(entity: E, ids: readonly string[]): Promise<EntityRows[E][]>;
  /** Applies one page's entity writes, block hashes and checkpoint atomically. */
  commitPage(page: PageWrite): Promise<void>;
  /** Remembered block hashes, oldest first. */
  recentBlocks(): Promise<BlockRef[]>;
  /** Undoes everything written in blocks after `block` and makes it the checkpoint. */
  rollbackTo(block: BlockRef): Promise<RollbackSummary>;
  /** Pending manifests due at `now` (unix ms), oldest block first. */
  dueManifests(now: number, limit: number): Promise<PendingManifest[]>;
  /**
   * Writes a fetched manifest's RecordVersions (none for an invalid manifest) and forgets it, in
   * one transaction; false (and nothing written) when it is no longer pending (rolled back).
   */
  completeManifest(batch: string, versions: EntityRows['RecordVersion'][]): Promise<boolean>;
  /** Records a failed fetch: tried `attempts` times, next try not before `nextAttemptAt`. */
  deferManifest(batch: string, attempts: number, nextAttemptAt: number): Promise<void>;
  /** The follower's cursor for a gateway (by the URL it is configured with), or null. */
  releaseCursor(gateway: string): Promise<ReleaseCursor | null>;
  /** A member's lowest seq still without a root and its highest seq, each null when none. */
  releaseSeqs(member: string): Promise<{ firstUnrooted: number | null; last: number | null }>;
  /** Upserts releases (by id) and moves the gateway's cursor, in one transaction. */
  saveReleases(cursor: ReleaseCursor, releases: readonly EntityRows['Release'][]): Promise<void>;
  findById<E extends EntityName>(entity: E, id: string): Promise<EntityRows[E] | null>;
  findMany<E extends EntityName>(entity: E, query: ListQuery): Promise<EntityRows[E][]>;
  count(entity: EntityName): Promise<number>;
  close(): Promise<void>;
}

export class StoreError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StoreError';
  }
}

/** The undo log keeps rows as JSON; bigints travel as `{"$bigint": "<decimal>"}`. */
export function encodeRow(row: EntityRow): string {
  return JSON.stringify(row, (_key, value: unknown) =>
    typeof value === 'bigint' ? { $bigint: value.toString() } : value,
  );
}

export function decodeRow(json: string): EntityRow {
  return JSON.parse(json, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && '$bigint' in value) {
      return BigInt((value as { $bigint: string }).$bigint);
    }
    return value;
  }) as EntityRow;
}

export const CHECKPOINT_ID = 'main';
/** Rows per INSERT statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
export const INSERT_CHUNK = 500;

export function chunks<T>(items: readonly T[], size = INSERT_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The first undo entry of each entity in `entries` (ordered oldest block first). */
export function oldestPerEntity<T extends { entity: string; entityId: string }>(entries: readonly T[]): T[] {
  const seen = new Set<string>();
  return entries.filter((u) => {
    const key = `${u.entity}:${u.entityId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
