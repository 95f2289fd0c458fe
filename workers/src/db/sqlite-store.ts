// The embedded default: one SQLite file (better-sqlite3) through drizzle.
// better-sqlite3 is synchronous, so a page is written in one synchronous transaction: nothing
// else in the process (GraphQL reads) can run in between and see half a page.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { and, asc, count, eq, getTableColumns, gt, inArray, isNull, lt, lte, max, min } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import * as schema from './schema/sqlite/index.ts';
import { excludedSet, orderOf, whereOf } from './query.ts';
import {
  CHECKPOINT_ID,
  chunks,
  decodeRow,
  encodeRow,
  ENTITY_NAMES,
  IMMUTABLE_ENTITIES,
  MUTABLE_ENTITIES,
  oldestPerEntity,
  StoreError,
  type BlockRef,
  type ChainIdentity,
  type EntityName,
  type EntityRow,
  type EntityRows,
  type IndexerState,
  type ListQuery,
  type MutableEntityName,
  type PageWrite,
  type PendingManifest,
  type ReleaseCursor,
  type RollbackSummary,
  type Store,
} from './store.ts';

const MIGRATIONS = fileURLToPath(new URL('../../drizzle/sqlite', import.meta.url));

const entityTables: Record<EntityName, SQLiteTable> = {
  Patient: schema.patient,
  PatientRegistered: schema.patientRegistered,
  EncryptionKeyRotated: schema.encryptionKeyRotated,
  AnchorBatch: schema.anchorBatch,
  RecordVersion: schema.recordVersion,
  Organization: schema.organization,
  AccessRequest: schema.accessRequest,
  Grant: schema.grant,
  AccessEvent: schema.accessEvent,
  BreakGlass: schema.breakGlass,
  PatientPolicy: schema.patientPolicy,
  CommitteeMember: schema.committeeMember,
  CommitteeEpoch: schema.committeeEpoch,
  LogRoot: schema.logRoot,
  Study: schema.study,
  IrbDecision: schema.irbDecision,
  Enrollment: schema.enrollment,
  ConsentRevocation: schema.consentRevocation,
  Purchase: schema.purchase,
  PurchaseConfirmation: schema.purchaseConfirmation,
  Refund: schema.refund,
  Claim: schema.claim,
  Issuer: schema.issuer,
  Release: schema.release,
};

type Db = BetterSQLite3Database<typeof schema>;
// drizzle's types cannot follow a table chosen at run time; rows are checked by the schema files.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTable = any;

function column(table: SQLiteTable, field: string) {
  const c = getTableColumns(table)[field];
  if (!c) throw new StoreError('UNKNOWN_FIELD', `Unknown field "${field}"`);
  return c;
}

export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly location: string;
  readonly #sqlite: Database.Database;
  readonly #db: Db;

  private constructor(file: string, sqlite: Database.Database) {
    this.location = `sqlite:${file}`;
    this.#sqlite = sqlite;
    this.#db = drizzle({ client: sqlite, schema });
  }

  /** Opens (creating if needed) the database file and applies pending migrations. */
  static open(file: string): SqliteStore {
    let sqlite: Database.Database;
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      sqlite = new Database(file);
      sqlite.pragma('journal_mode = WAL');
      // WAL + NORMAL: a committed page survives a process crash; only an OS crash may lose the
      // latest pages, and then the checkpoint goes back with them (they are re-indexed).
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('busy_timeout = 5000');
    } catch (cause) {
      throw new StoreError('STORE_OPEN_FAILED', `Cannot open the SQLite database ${file}`, { cause });
    }
    const store = new SqliteStore(file, sqlite);
    migrate(store.#db, { migrationsFolder: MIGRATIONS });
    // After migrating (drizzle's migrator expects plain numbers): integers come back exact.
    sqlite.defaultSafeIntegers(true);
    return store;
  }

  async readState(): Promise<IndexerState | null> {
    const row = this.#db.select().from(schema.indexerCheckpoint).where(eq(schema.indexerCheckpoint.id, CHECKPOINT_ID)).get();
    if (!row) return null;
    const { blockNumber, blockHash, blockTimestamp, id: _id, ...identity } = row;
    const checkpoint =
      blockNumber !== null && blockHash !== null && blockTimestamp !== null
        ? { number: blockNumber, hash: blockHash, timestamp: blockTimestamp }
        : null;
    return { ...identity, checkpoint };
  }

  async resetState(identity: ChainIdentity): Promise<void> {
    this.#db.transaction((tx) => {
      // Chain entities only: releases come from the gateways and stay (decision 015).
      for (const entity of ENTITY_NAMES) tx.delete(entityTables[entity]).run();
      tx.delete(schema.indexerBlock).run();
      tx.delete(schema.indexerUndo).run();
      tx.delete(schema.indexerManifest).run();
      tx.delete(schema.indexerCheckpoint).run();
      tx.insert(schema.indexerCheckpoint)
        .values({ id: CHECKPOINT_ID, ...identity, blockNumber: null, blockHash: null, blockTimestamp: null })
        .run();
    });
  }

  async load<E extends MutableEntityName>(entity: E, ids: readonly string[]): Promise<EntityRows[E][]> {
    const table: AnyTable = entityTables[entity];
    const rows: EntityRows[E][] = [];
    for (const part of chunks([...ids])) {
      rows.push(...(this.#db.select().from(table).where(inArray(column(table, 'id'), part)).all() as EntityRows[E][]));
    }
    return rows;
  }

  async commitPage(page: PageWrite): Promise<void> {
    this.#db.transaction((tx) => {
      for (const entity of IMMUTABLE_ENTITIES) {
        const table: AnyTable = entityTables[entity];
        for (const part of chunks<EntityRow>(page.inserts[entity] ?? [])) {
          tx.insert(table).values(part).onConflictDoUpdate({ target: table.id, set: excludedSet(table) }).run();
        }
      }
      for (const entity of MUTABLE_ENTITIES) {
        const table: AnyTable = entityTables[entity];
        for (const part of chunks<EntityRow>(page.upserts[entity] ?? [])) {
          tx.insert(table).values(part).onConflictDoUpdate({ target: table.id, set: excludedSet(table) }).run();
        }
      }
      for (const part of chunks(page.undo)) {
        tx.insert(schema.indexerUndo)
          .values(
            part.map((u) => ({
              blockNumber: u.blockNumber,
              entity: u.entity,
              entityId: u.id,
              previous: u.previous === null ? null : encodeRow(u.previous),
            })),
          )
          .onConflictDoNothing()
          .run();
      }
      for (const part of chunks(page.manifests)) {
        tx.insert(schema.indexerManifest).values(part).onConflictDoNothing().run();
      }
      for (const part of chunks(page.blocks)) {
        tx.insert(schema.indexerBlock)
          .values(part)
          .onConflictDoUpdate({ target: schema.indexerBlock.number, set: excludedSet(schema.indexerBlock) })
          .run();
      }
      tx.delete(schema.indexerBlock).where(lt(schema.indexerBlock.number, page.pruneBelow)).run();
      tx.delete(schema.indexerUndo).where(lt(schema.indexerUndo.blockNumber, page.pruneBelow)).run();
      const { number, hash, timestamp } = page.checkpoint;
      const updated = tx
        .update(schema.indexerCheckpoint)
        .set({ blockNumber: number, blockHash: hash, blockTimestamp: timestamp })
        .where(eq(schema.indexerCheckpoint.id, CHECKPOINT_ID))
        .run();
      if (updated.changes !== 1) throw new StoreError('NO_CHECKPOINT', 'The indexer state was not initialised');
    });
  }

  async recentBlocks(): Promise<BlockRef[]> {
    return this.#db.select().from(schema.indexerBlock).orderBy(asc(schema.indexerBlock.number)).all();
  }

  async rollbackTo(block: BlockRef): Promise<RollbackSummary> {
    return this.#db.transaction((tx) => {
      let deleted = 0;
      let restored = 0;
      const undo = tx
        .select()
        .from(schema.indexerUndo)
        .where(gt(schema.indexerUndo.blockNumber, block.number))
        .orderBy(asc(schema.indexerUndo.blockNumber))
        .all();
      // An entity's oldest entry after `block` holds its state as of `block`.
      for (const u of oldestPerEntity(undo)) {
        const table: AnyTable = entityTables[u.entity as MutableEntityName];
        if (!table) throw new StoreError('BAD_UNDO', `Undo entry for unknown entity ${u.entity}`);
        tx.delete(table).where(eq(table.id, u.entityId)).run();
        if (u.previous === null) {
          deleted += 1;
        } else {
          tx.insert(table).values(decodeRow(u.previous) as EntityRow).run();
          restored += 1;
        }
      }
      tx.delete(schema.indexerUndo).where(gt(schema.indexerUndo.blockNumber, block.number)).run();
      for (const entity of IMMUTABLE_ENTITIES) {
        const table: AnyTable = entityTables[entity];
        deleted += tx.delete(table).where(gt(table.blockNumber, BigInt(block.number))).run().changes;
      }
      tx.delete(schema.indexerManifest).where(gt(schema.indexerManifest.blockNumber, block.number)).run();
      tx.delete(schema.indexerBlock).where(gt(schema.indexerBlock.number, block.number)).run();
      tx.insert(schema.indexerBlock).values(block).onConflictDoNothing().run();
      tx.update(schema.indexerCheckpoint)
        .set({ blockNumber: block.number, blockHash: block.hash, blockTimestamp: block.timestamp })
        .where(eq(schema.indexerCheckpoint.id, CHECKPOINT_ID))
        .run();
      return { deleted, restored };
    });
  }

  async dueManifests(now: number, limit: number): Promise<PendingManifest[]> {
    return this.#db
      .select()
      .from(schema.indexerManifest)
      .where(lte(schema.indexerManifest.nextAttemptAt, now))
      .orderBy(asc(schema.indexerManifest.blockNumber), asc(schema.indexerManifest.batch))
      .limit(limit)
      .all();
  }

  async completeManifest(batch: string, versions: EntityRows['RecordVersion'][]): Promise<boolean> {
    return this.#db.transaction((tx) => {
      const gone = tx.delete(schema.indexerManifest).where(eq(schema.indexerManifest.batch, batch)).run();
      if (gone.changes !== 1) return false;
      for (const part of chunks(versions)) tx.insert(schema.recordVersion).values(part).onConflictDoNothing().run();
      return true;
    });
  }

  async deferManifest(batch: string, attempts: number, nextAttemptAt: number): Promise<void> {
    this.#db
      .update(schema.indexerManifest)
      .set({ attempts, nextAttemptAt })
      .where(eq(schema.indexerManifest.batch, batch))
      .run();
  }

  async releaseCursor(gateway: string): Promise<ReleaseCursor | null> {
    return this.#db.select().from(schema.releaseCursor).where(eq(schema.releaseCursor.gateway, gateway)).get() ?? null;
  }

  async releaseSeqs(member: string): Promise<{ firstUnrooted: number | null; last: number | null }> {
    const r = schema.release;
    const first = this.#db.select({ seq: min(r.seq) }).from(r).where(and(eq(r.member, member), isNull(r.batchRoot))).get();
    const last = this.#db.select({ seq: max(r.seq) }).from(r).where(eq(r.member, member)).get();
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return { firstUnrooted: num(first?.seq), last: num(last?.seq) };
  }

  async saveReleases(cursor: ReleaseCursor, releases: readonly EntityRows['Release'][]): Promise<void> {
    this.#db.transaction((tx) => {
      for (const part of chunks(releases)) {
        tx.insert(schema.release).values(part).onConflictDoUpdate({ target: schema.release.id, set: excludedSet(schema.release) }).run();
      }
      tx.insert(schema.releaseCursor)
        .values(cursor)
        .onConflictDoUpdate({ target: schema.releaseCursor.gateway, set: excludedSet(schema.releaseCursor) })
        .run();
    });
  }

  async findById<E extends EntityName>(entity: E, id: string): Promise<EntityRows[E] | null> {
    const table: AnyTable = entityTables[entity];
    return (this.#db.select().from(table).where(eq(table.id, id)).get() as EntityRows[E] | undefined) ?? null;
  }

  async findMany<E extends EntityName>(entity: E, query: ListQuery): Promise<EntityRows[E][]> {
    const table: AnyTable = entityTables[entity];
    return this.#db
      .select()
      .from(table)
      .where(whereOf(table, query.where))
      .orderBy(...orderOf(table, query))
      .limit(query.first)
      .offset(query.skip)
      .all() as EntityRows[E][];
  }

  async count(entity: EntityName): Promise<number> {
    const table: AnyTable = entityTables[entity];
    const row = this.#db.select({ n: count() }).from(table).get() as { n: number | bigint } | undefined;
    return Number(row?.n ?? 0);
  }

  async close(): Promise<void> {
    if (this.#sqlite.open) this.#sqlite.close();
  }
}
