// PostgreSQL through drizzle: a server via node-postgres (`DATABASE_URL`), or PGlite in-process
// (tests, and trying the PostgreSQL path without a server). Same tables, same migrations.
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { and, asc, count, eq, getTableColumns, gt, inArray, isNull, lt, lte, max, min } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema/pg/index.ts';
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

const MIGRATIONS = fileURLToPath(new URL('../../drizzle/postgresql', import.meta.url));

const entityTables: Record<EntityName, PgTable> = {
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

type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
// drizzle's types cannot follow a table chosen at run time; rows are checked by the schema files.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTable = any;

function column(table: PgTable, field: string) {
  const c = getTableColumns(table)[field];
  if (!c) throw new StoreError('UNKNOWN_FIELD', `Unknown field "${field}"`);
  return c;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** host:port/database of a postgres URL, never the user or password. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `postgresql://${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'postgresql://(unparseable URL)';
  }
}

export class PgStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  readonly #db: Db;
  readonly #close: () => Promise<void>;

  private constructor(location: string, db: Db, close: () => Promise<void>) {
    this.location = location;
    this.#db = db;
    this.#close = close;
  }

  /** PGlite in this process: in memory, or persisted in `dataDir`. */
  static async openPglite(dataDir?: string): Promise<PgStore> {
    let client: PGlite;
    try {
      client = dataDir ? new PGlite(dataDir) : new PGlite();
      await client.waitReady;
    } catch (cause) {
      throw new StoreError('STORE_OPEN_FAILED', `Cannot open PGlite${dataDir ? ` in ${dataDir}` : ''}`, { cause });
    }
    return PgStore.fromPglite(client, { location: dataDir ? `pglite:${dataDir}` : 'pglite:memory', ownsClient: true });
  }

  /** A store on an open PGlite instance; close() leaves the instance open unless `ownsClient`. */
  static async fromPglite(client: PGlite, options: { location?: string; ownsClient?: boolean } = {}): Promise<PgStore> {
    const db = drizzlePglite({ client, schema });
    await migratePglite(db, { migrationsFolder: MIGRATIONS });
    return new PgStore(options.location ?? 'pglite:memory', db as unknown as Db, async () => {
      if (options.ownsClient && !client.closed) await client.close();
    });
  }

  /**
   * A PostgreSQL server. `schema` (optional) keeps the tables, and drizzle's migration journal,
   * in their own schema, so several deployments or test runs can share one database.
   */
  static async openPostgres(url: string, options: { schema?: string } = {}): Promise<PgStore> {
    const { schema: pgSchema } = options;
    if (pgSchema !== undefined && !SCHEMA_NAME.test(pgSchema)) {
      throw new StoreError('BAD_SCHEMA_NAME', `Invalid PostgreSQL schema name "${pgSchema}"`);
    }
    const where = describePostgresUrl(url);
    const pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: 10_000,
      ...(pgSchema ? { options: `-c search_path=${pgSchema}` } : {}),
    });
    // An idle client that loses its connection must not crash the process.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        if (pgSchema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${pgSchema}"`);
      } finally {
        client.release();
      }
    } catch (cause) {
      await pool.end().catch(() => undefined);
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new StoreError('STORE_OPEN_FAILED', `Cannot connect to PostgreSQL at ${where}: ${reason}`, { cause });
    }
    const db = drizzlePg({ client: pool, schema });
    await migratePg(db, { migrationsFolder: MIGRATIONS, ...(pgSchema ? { migrationsSchema: pgSchema } : {}) });
    return new PgStore(pgSchema ? `${where} (schema ${pgSchema})` : where, db as unknown as Db, () => pool.end());
  }

  async readState(): Promise<IndexerState | null> {
    const [row] = await this.#db
      .select()
      .from(schema.indexerCheckpoint)
      .where(eq(schema.indexerCheckpoint.id, CHECKPOINT_ID));
    if (!row) return null;
    const { blockNumber, blockHash, blockTimestamp, id: _id, ...identity } = row;
    const checkpoint =
      blockNumber !== null && blockHash !== null && blockTimestamp !== null
        ? { number: blockNumber, hash: blockHash, timestamp: blockTimestamp }
        : null;
    return { ...identity, checkpoint };
  }

  async resetState(identity: ChainIdentity): Promise<void> {
    await this.#db.transaction(async (tx) => {
      // Chain entities only: releases come from the gateways and stay (decision 015).
      for (const entity of ENTITY_NAMES) await tx.delete(entityTables[entity]);
      await tx.delete(schema.indexerBlock);
      await tx.delete(schema.indexerUndo);
      await tx.delete(schema.indexerManifest);
      await tx.delete(schema.indexerCheckpoint);
      await tx
        .insert(schema.indexerCheckpoint)
        .values({ id: CHECKPOINT_ID, ...identity, blockNumber: null, blockHash: null, blockTimestamp: null });
    });
  }

  async load<E extends MutableEntityName>(entity: E, ids: readonly string[]): Promise<EntityRows[E][]> {
    const table: AnyTable = entityTables[entity];
    const rows: EntityRows[E][] = [];
    for (const part of chunks([...ids])) {
      rows.push(...((await this.#db.select().from(table).where(inArray(column(table, 'id'), part))) as EntityRows[E][]));
    }
    return rows;
  }

  async commitPage(page: PageWrite): Promise<void> {
    await this.#db.transaction(async (tx) => {
      for (const entity of IMMUTABLE_ENTITIES) {
        const table: AnyTable = entityTables[entity];
        for (const part of chunks<EntityRow>(page.inserts[entity] ?? [])) {
          await tx.insert(table).values(part).onConflictDoUpdate({ target: table.id, set: excludedSet(table) });
        }
      }
      for (const entity of MUTABLE_ENTITIES) {
        const table: AnyTable = entityTables[entity];
        for (const part of chunks<EntityRow>(page.upserts[entity] ?? [])) {
          await tx.insert(table).values(part).onConflictDoUpdate({ target: table.id, set: excludedSet(table) });
        }
      }
      for (const part of chunks(page.undo)) {
        await tx
          .insert(schema.indexerUndo)
          .values(
            part.map((u) => ({
              blockNumber: u.blockNumber,
              entity: u.entity,
              entityId: u.id,
              previous: u.previous === null ? null : encodeRow(u.previous),
            })),
          )
          .onConflictDoNothing();
      }
      for (const part of chunks(page.manifests)) {
        await tx.insert(schema.indexerManifest).values(part).onConflictDoNothing();
      }
      for (const part of chunks(page.blocks)) {
        await tx
          .insert(schema.indexerBlock)
          .values(part)
          .onConflictDoUpdate({ target: schema.indexerBlock.number, set: excludedSet(schema.indexerBlock) });
      }
      await tx.delete(schema.indexerBlock).where(lt(schema.indexerBlock.number, page.pruneBelow));
      await tx.delete(schema.indexerUndo).where(lt(schema.indexerUndo.blockNumber, page.pruneBelow));
      const { number, hash, timestamp } = page.checkpoint;
      const updated = await tx
        .update(schema.indexerCheckpoint)
        .set({ blockNumber: number, blockHash: hash, blockTimestamp: timestamp })
        .where(eq(schema.indexerCheckpoint.id, CHECKPOINT_ID))
        .returning({ id: schema.indexerCheckpoint.id });
      if (updated.length !== 1) throw new StoreError('NO_CHECKPOINT', 'The indexer state was not initialised');
    });
  }

  async recentBlocks(): Promise<BlockRef[]> {
    return this.#db.select().from(schema.indexerBlock).orderBy(asc(schema.indexerBlock.number));
  }

  async rollbackTo(block: BlockRef): Promise<RollbackSummary> {
    return this.#db.transaction(async (tx) => {
      let deleted = 0;
      let restored = 0;
      const undo = await tx
        .select()
        .from(schema.indexerUndo)
        .where(gt(schema.indexerUndo.blockNumber, block.number))
        .orderBy(asc(schema.indexerUndo.blockNumber));
      // An entity's oldest entry after `block` holds its state as of `block`.
      for (const u of oldestPerEntity(undo)) {
        const table: AnyTable = entityTables[u.entity as MutableEntityName];
        if (!table) throw new StoreError('BAD_UNDO', `Undo entry for unknown entity ${u.entity}`);
        await tx.delete(table).where(eq(table.id, u.entityId));
        if (u.previous === null) {
          deleted += 1;
        } else {
          await tx.insert(table).values(decodeRow(u.previous) as EntityRow);
          restored += 1;
        }
      }
      await tx.delete(schema.indexerUndo).where(gt(schema.indexerUndo.blockNumber, block.number));
      for (const entity of IMMUTABLE_ENTITIES) {
        const table: AnyTable = entityTables[entity];
        const gone = await tx
          .delete(table)
          .where(gt(table.blockNumber, BigInt(block.number)))
          .returning({ id: table.id });
        deleted += gone.length;
      }
      await tx.delete(schema.indexerManifest).where(gt(schema.indexerManifest.blockNumber, block.number));
      await tx.delete(schema.indexerBlock).where(gt(schema.indexerBlock.number, block.number));
      await tx.insert(schema.indexerBlock).values(block).onConflictDoNothing();
      await tx
        .update(schema.indexerCheckpoint)
        .set({ blockNumber: block.number, blockHash: block.hash, blockTimestamp: block.timestamp })
        .where(eq(schema.indexerCheckpoint.id, CHECKPOINT_ID));
      return { deleted, restored };
    });
  }

  async dueManifests(now: number, limit: number): Promise<PendingManifest[]> {
    return this.#db
      .select()
      .from(schema.indexerManifest)
      .where(lte(schema.indexerManifest.nextAttemptAt, now))
      .orderBy(asc(schema.indexerManifest.blockNumber), asc(schema.indexerManifest.batch))
      .limit(limit);
  }

  async completeManifest(batch: string, versions: EntityRows['RecordVersion'][]): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const gone = await tx
        .delete(schema.indexerManifest)
        .where(eq(schema.indexerManifest.batch, batch))
        .returning({ batch: schema.indexerManifest.batch });
      if (gone.length !== 1) return false;
      for (const part of chunks(versions)) await tx.insert(schema.recordVersion).values(part).onConflictDoNothing();
      return true;
    });
  }

  async deferManifest(batch: string, attempts: number, nextAttemptAt: number): Promise<void> {
    await this.#db
      .update(schema.indexerManifest)
      .set({ attempts, nextAttemptAt })
      .where(eq(schema.indexerManifest.batch, batch));
  }

  async releaseCursor(gateway: string): Promise<ReleaseCursor | null> {
    const [row] = await this.#db.select().from(schema.releaseCursor).where(eq(schema.releaseCursor.gateway, gateway));
    return row ?? null;
  }

  async releaseSeqs(member: string): Promise<{ firstUnrooted: number | null; last: number | null }> {
    const r = schema.release;
    const [first] = await this.#db.select({ seq: min(r.seq) }).from(r).where(and(eq(r.member, member), isNull(r.batchRoot)));
    const [last] = await this.#db.select({ seq: max(r.seq) }).from(r).where(eq(r.member, member));
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return { firstUnrooted: num(first?.seq), last: num(last?.seq) };
  }

  async saveReleases(cursor: ReleaseCursor, releases: readonly EntityRows['Release'][]): Promise<void> {
    await this.#db.transaction(async (tx) => {
      for (const part of chunks(releases)) {
        await tx.insert(schema.release).values(part).onConflictDoUpdate({ target: schema.release.id, set: excludedSet(schema.release) });
      }
      await tx
        .insert(schema.releaseCursor)
        .values(cursor)
        .onConflictDoUpdate({ target: schema.releaseCursor.gateway, set: excludedSet(schema.releaseCursor) });
    });
  }

  async findById<E extends EntityName>(entity: E, id: string): Promise<EntityRows[E] | null> {
    const table: AnyTable = entityTables[entity];
    const [row] = (await this.#db.select().from(table).where(eq(table.id, id)).limit(1)) as EntityRows[E][];
    return row ?? null;
  }

  async findMany<E extends EntityName>(entity: E, query: ListQuery): Promise<EntityRows[E][]> {
    const table: AnyTable = entityTables[entity];
    return (await this.#db
      .select()
      .from(table)
      .where(whereOf(table, query.where))
      .orderBy(...orderOf(table, query))
      .limit(query.first)
      .offset(query.skip)) as EntityRows[E][];
  }

  async count(entity: EntityName): Promise<number> {
    const table: AnyTable = entityTables[entity];
    const [row] = (await this.#db.select({ n: count() }).from(table)) as { n: number }[];
    return Number(row?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.#close();
  }
}
