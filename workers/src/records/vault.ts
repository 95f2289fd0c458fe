/**
 * The record vault: what the server keeps of a patient's records. Ciphertext lives in the blob
 * store; here are the versions' ids, CIDs, categories, sealed data keys (opaque without the
 * patient's key), anchoring proofs and erasures. Never plaintext, never an opening key.
 *
 * One implementation serves SQLite (default, `<DATA_DIR>/records.sqlite`), PGlite and PostgreSQL
 * (`DATABASE_URL`): reads are awaited drizzle queries, which both dialects support; writes that must
 * be atomic are lists of statements run in one transaction (synchronously on better-sqlite3, whose
 * transactions cannot await, and awaited on PostgreSQL).
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { ConsentryError } from '@consentry/sdk/errors';
import * as pgSchema from '../db/schema/pg/records.ts';
import * as sqliteSchema from '../db/schema/sqlite/records.ts';

export type VersionRow = typeof sqliteSchema.vaultRecordVersion.$inferSelect;
export type NewVersionRow = typeof sqliteSchema.vaultRecordVersion.$inferInsert;
export type ErasureRow = typeof sqliteSchema.vaultErasure.$inferSelect;
export type AnchorRow = typeof sqliteSchema.vaultAnchor.$inferSelect;
export type ShareRow = typeof sqliteSchema.vaultShare.$inferSelect;
export type ExtractRow = typeof sqliteSchema.vaultExtract.$inferSelect;
export type ExtractShareRow = typeof sqliteSchema.vaultExtractShare.$inferSelect;
export type KeyBackupRow = typeof sqliteSchema.vaultKeyBackup.$inferSelect;
export type KeyBackupShareRow = typeof sqliteSchema.vaultKeyBackupShare.$inferSelect;
export type ReleasedShareRow = typeof sqliteSchema.vaultReleasedShare.$inferSelect;
export type KeyringRow = typeof sqliteSchema.vaultKeyring.$inferSelect;

export class VaultError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'VaultError';
  }
}

export const VAULT_SQLITE_FILE = 'records.sqlite';

/**
 * Where the configuration puts the vault: PostgreSQL with DATABASE_URL (in the schema
 * VAULT_DATABASE_SCHEMA names, if any), otherwise SQLite under DATA_DIR.
 */
export function vaultOptionsFor(config: { DATABASE_URL?: string | undefined; DATA_DIR: string }, env: Record<string, string | undefined> = process.env): VaultOptions {
  if (!config.DATABASE_URL) return { dataDir: config.DATA_DIR };
  const schema = env.VAULT_DATABASE_SCHEMA;
  return { databaseUrl: config.DATABASE_URL, ...(schema ? { databaseSchema: schema } : {}) };
}
const MIGRATIONS_TABLE = '__vault_migrations';

/** The migrations folder, found through the package so it also works from a bundled web server. */
function migrationsFolder(dialect: 'sqlite' | 'postgresql'): string {
  const pkg = createRequire(import.meta.url).resolve('@consentry/workers/package.json');
  return join(dirname(pkg), 'drizzle', `vault-${dialect}`);
}

export interface VaultOptions {
  /** postgres:// URL: use that server (tables next to the indexer's). */
  databaseUrl?: string;
  /** PostgreSQL schema for the tables (tests use one per run). */
  databaseSchema?: string;
  /** An open PGlite instance (tests), or a directory to persist one in. */
  pglite?: PGlite | string;
  /** Otherwise SQLite at `<dataDir>/records.sqlite`. */
  dataDir?: string;
}

// The two dialects' tables have the same TypeScript fields; queries are typed by the SQLite ones.
type Tables = typeof sqliteSchema;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = any;
/** A statement not yet run: `.run()` on better-sqlite3, awaited on PostgreSQL. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Statement = any;

export class Vault {
  readonly dialect: 'sqlite' | 'postgres';
  readonly location: string;
  readonly #db: AnyDb;
  readonly #t: Tables;
  readonly #close: () => Promise<void>;

  private constructor(dialect: 'sqlite' | 'postgres', location: string, db: AnyDb, tables: Tables, close: () => Promise<void>) {
    this.dialect = dialect;
    this.location = location;
    this.#db = db;
    this.#t = tables;
    this.#close = close;
  }

  static async open(options: VaultOptions): Promise<Vault> {
    try {
      if (options.databaseUrl) return await Vault.#openPostgres(options.databaseUrl, options.databaseSchema);
      if (options.pglite !== undefined) return await Vault.#openPglite(options.pglite);
      if (!options.dataDir) throw new VaultError('VAULT_CONFIG', 'The vault needs DATABASE_URL or a data directory');
      return Vault.#openSqlite(options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir, VAULT_SQLITE_FILE));
    } catch (err) {
      if (err instanceof VaultError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new VaultError('VAULT_OPEN_FAILED', `Cannot open the record vault: ${reason}`, { cause: err });
    }
  }

  static #openSqlite(file: string): Vault {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    // FULL: a committed import chunk survives even an OS crash (the CLI may be killed at any time).
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 10000');
    const db = drizzleSqlite({ client: sqlite, schema: sqliteSchema });
    migrateSqlite(db, { migrationsFolder: migrationsFolder('sqlite'), migrationsTable: MIGRATIONS_TABLE });
    return new Vault('sqlite', `sqlite:${file}`, db, sqliteSchema, async () => {
      sqlite.close();
    });
  }

  static async #openPglite(source: PGlite | string): Promise<Vault> {
    // PostgreSQL drivers load only when used: the SQLite default starts faster without them.
    const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
    ]);
    const owns = typeof source === 'string';
    const client = typeof source === 'string' ? new PGlite(source) : source;
    await client.waitReady;
    const db = drizzlePglite({ client, schema: pgSchema });
    await migratePglite(db, { migrationsFolder: migrationsFolder('postgresql'), migrationsTable: MIGRATIONS_TABLE });
    return new Vault('postgres', owns ? `pglite:${source}` : 'pglite', db, pgSchema as unknown as Tables, async () => {
      if (owns && !client.closed) await client.close();
    });
  }

  static async #openPostgres(url: string, schema?: string): Promise<Vault> {
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new VaultError('VAULT_CONFIG', `Invalid PostgreSQL schema name "${schema}"`);
    }
    const [{ default: pg }, { drizzle: drizzlePg }, { migrate: migratePg }] = await Promise.all([
      import('pg'),
      import('drizzle-orm/node-postgres'),
      import('drizzle-orm/node-postgres/migrator'),
    ]);
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
    pool.on('error', () => undefined);
    try {
      if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const db = drizzlePg({ client: pool, schema: pgSchema });
      await migratePg(db, {
        migrationsFolder: migrationsFolder('postgresql'),
        migrationsTable: MIGRATIONS_TABLE,
        ...(schema ? { migrationsSchema: schema } : {}),
      });
      const where = new URL(url);
      return new Vault('postgres', `postgres://${where.host}${where.pathname}`, db, pgSchema as unknown as Tables, () => pool.end());
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  /** Runs the statements `build` makes in one transaction (all of them or none); resolves with the rows they changed. */
  async #atomically(build: (tx: AnyDb) => Statement[]): Promise<number> {
    // better-sqlite3 reports `changes`, node-postgres `rowCount`, PGlite `affectedRows`.
    const changed = (r: unknown) => {
      const x = r as { changes?: number; rowCount?: number | null; affectedRows?: number } | undefined;
      return Number(x?.changes ?? x?.rowCount ?? x?.affectedRows ?? 0);
    };
    let total = 0;
    if (this.dialect === 'sqlite') {
      this.#db.transaction((tx: AnyDb) => {
        for (const s of build(tx)) total += changed(s.run());
      });
      return total;
    }
    await this.#db.transaction(async (tx: AnyDb) => {
      for (const s of build(tx)) total += changed(await s);
    });
    return total;
  }

  /**
   * Stores versions; a version already stored (same leaf, or same record and version) is left as it
   * is, so re-running an import is harmless. Resolves with how many rows were new.
   */
  async insertVersions(rows: readonly NewVersionRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const t = this.#t.vaultRecordVersion;
    return this.#atomically((tx) => {
      const out: Statement[] = [];
      for (let i = 0; i < rows.length; i += 500) out.push(tx.insert(t).values(rows.slice(i, i + 500)).onConflictDoNothing());
      return out;
    });
  }

  /** Every version of a patient's records (or of one record), oldest first. */
  async versions(patient: string, recordId?: string): Promise<VersionRow[]> {
    const t = this.#t.vaultRecordVersion;
    const where = recordId ? and(eq(t.patient, patient.toLowerCase()), eq(t.recordId, recordId)) : eq(t.patient, patient.toLowerCase());
    return this.#db.select().from(t).where(where).orderBy(asc(t.createdAt), asc(t.recordId), asc(t.version));
  }

  /** Every stored version of these records of the patient (in chunks of 500 ids). */
  async versionsOfRecords(patient: string, recordIds: readonly string[]): Promise<VersionRow[]> {
    const t = this.#t.vaultRecordVersion;
    const out: VersionRow[] = [];
    for (let i = 0; i < recordIds.length; i += 500) {
      out.push(...((await this.#db.select().from(t).where(and(eq(t.patient, patient.toLowerCase()), inArray(t.recordId, recordIds.slice(i, i + 500))))) as VersionRow[]));
    }
    return out;
  }

  /** The newest stored version of each of these records. */
  async latest(patient: string, recordIds: readonly string[]): Promise<Map<string, VersionRow>> {
    const t = this.#t.vaultRecordVersion;
    const out = new Map<string, VersionRow>();
    for (let i = 0; i < recordIds.length; i += 500) {
      const rows: VersionRow[] = await this.#db
        .select()
        .from(t)
        .where(and(eq(t.patient, patient.toLowerCase()), inArray(t.recordId, recordIds.slice(i, i + 500))));
      for (const r of rows) if ((out.get(r.recordId)?.version ?? 0) < r.version) out.set(r.recordId, r);
    }
    return out;
  }

  async version(recordId: string, version: number): Promise<VersionRow | null> {
    const t = this.#t.vaultRecordVersion;
    const [row] = await this.#db.select().from(t).where(and(eq(t.recordId, recordId), eq(t.version, version)));
    return row ?? null;
  }

  /** Whether one of the patient's versions has this ciphertext. */
  async ownsCid(patient: string, cid: string): Promise<boolean> {
    const t = this.#t.vaultRecordVersion;
    const rows = await this.#db.select({ cid: t.cid }).from(t).where(and(eq(t.patient, patient.toLowerCase()), eq(t.cid, cid))).limit(1);
    return rows.length > 0;
  }

  /** Versions not yet anchored, oldest first (optionally one patient's). */
  async pending(limit: number, patient?: string): Promise<VersionRow[]> {
    const t = this.#t.vaultRecordVersion;
    const where = patient ? and(isNull(t.batchRoot), eq(t.patient, patient.toLowerCase())) : isNull(t.batchRoot);
    return this.#db.select().from(t).where(where).orderBy(asc(t.createdAt), asc(t.recordId), asc(t.version)).limit(limit);
  }

  /** Records an anchored batch and each version's proof; versions already anchored keep theirs. */
  async markAnchored(anchor: AnchorRow, proofs: ReadonlyArray<{ leafHash: string; proof: readonly string[] }>): Promise<void> {
    const { vaultAnchor: a, vaultRecordVersion: t } = this.#t;
    await this.#atomically((tx) => [
      tx.insert(a).values(anchor).onConflictDoNothing(),
      ...proofs.map((p) =>
        tx
          .update(t)
          .set({ batchRoot: anchor.root, proof: JSON.stringify(p.proof) })
          .where(and(eq(t.leafHash, p.leafHash), isNull(t.batchRoot))),
      ),
    ]);
  }

  async anchors(roots: readonly string[]): Promise<Map<string, AnchorRow>> {
    const out = new Map<string, AnchorRow>();
    if (roots.length === 0) return out;
    const rows: AnchorRow[] = await this.#db.select().from(this.#t.vaultAnchor).where(inArray(this.#t.vaultAnchor.root, [...new Set(roots)]));
    for (const r of rows) out.set(r.root, r);
    return out;
  }

  /** Stores committee shares; a share already stored is kept. Resolves with how many were new. */
  async insertShares(rows: readonly ShareRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const t = this.#t.vaultShare;
    return this.#atomically((tx) => {
      const out: Statement[] = [];
      for (let i = 0; i < rows.length; i += 500) out.push(tx.insert(t).values(rows.slice(i, i + 500)).onConflictDoNothing());
      return out;
    });
  }

  /** One member's share of a record version for an epoch. */
  async shareFor(recordId: string, version: number, member: string, epoch: number): Promise<ShareRow | null> {
    const t = this.#t.vaultShare;
    const [row] = await this.#db
      .select()
      .from(t)
      .where(and(eq(t.recordId, recordId), eq(t.version, version), eq(t.member, member.toLowerCase()), eq(t.epoch, epoch)));
    return row ?? null;
  }

  /** The patient's versions (not erased) with no share for `epoch` yet: what the client must split. */
  async versionsWithoutShares(patient: string, epoch: number, limit: number): Promise<VersionRow[]> {
    const { vaultRecordVersion: t, vaultShare: sh } = this.#t;
    return this.#db
      .select()
      .from(t)
      .where(
        and(
          eq(t.patient, patient.toLowerCase()),
          sql`${t.sealedKey} is not null`,
          sql`not exists (select 1 from ${sh} where ${sh.recordId} = ${t.recordId} and ${sh.version} = ${t.version} and ${sh.epoch} = ${epoch})`,
        ),
      )
      .orderBy(asc(t.createdAt), asc(t.recordId), asc(t.version))
      .limit(limit);
  }

  /**
   * Stores a sealed study extract's row and its committee shares, all or nothing; an extract already
   * stored is kept as it is (an upload retried after a lost answer is harmless). Resolves with
   * whether it was new.
   */
  async insertExtract(extract: ExtractRow, shares: readonly ExtractShareRow[]): Promise<boolean> {
    const { vaultExtract: e, vaultExtractShare: sh } = this.#t;
    const changed = await this.#atomically((tx) => [
      tx.insert(e).values(extract).onConflictDoNothing(),
      ...(shares.length ? [tx.insert(sh).values([...shares]).onConflictDoNothing()] : []),
    ]);
    return changed > 0;
  }

  /** A stored extract's row, by its hash. */
  async extract(extractHash: string): Promise<ExtractRow | null> {
    const e = this.#t.vaultExtract;
    const [row] = await this.#db.select().from(e).where(eq(e.extractHash, extractHash.toLowerCase()));
    return row ?? null;
  }

  /** One member's sealed shares of the given extracts, by extract hash (those it has). */
  async extractSharesFor(member: string, extractHashes: readonly string[]): Promise<Map<string, string>> {
    const sh = this.#t.vaultExtractShare;
    const out = new Map<string, string>();
    const hashes = extractHashes.map((h) => h.toLowerCase());
    for (let i = 0; i < hashes.length; i += 500) {
      const rows: ExtractShareRow[] = await this.#db
        .select()
        .from(sh)
        .where(and(eq(sh.member, member.toLowerCase()), inArray(sh.extractHash, hashes.slice(i, i + 500))));
      for (const r of rows) out.set(r.extractHash, r.sealedShare);
    }
    return out;
  }

  /** Crypto-shredding: every sealed data key and committee share of the record is destroyed, and the erasure recorded. */
  async erase(erasure: ErasureRow): Promise<void> {
    const { vaultErasure: e, vaultRecordVersion: t, vaultShare: sh } = this.#t;
    await this.#atomically((tx) => [
      tx.update(t).set({ sealedKey: null }).where(eq(t.recordId, erasure.recordId)),
      tx.delete(sh).where(eq(sh.recordId, erasure.recordId)),
      tx.insert(e).values(erasure).onConflictDoNothing(),
    ]);
  }

  async erasures(patient: string): Promise<Map<string, ErasureRow>> {
    const rows: ErasureRow[] = await this.#db.select().from(this.#t.vaultErasure).where(eq(this.#t.vaultErasure.patient, patient.toLowerCase()));
    return new Map(rows.map((r) => [r.recordId, r]));
  }

  /**
   * Replaces a patient account's key backup and its guardians' shares, all or nothing: the previous
   * backup's shares go with it (a guardian removed from the set keeps nothing it could release).
   */
  async replaceKeyBackup(backup: KeyBackupRow, shares: readonly KeyBackupShareRow[]): Promise<void> {
    const { vaultKeyBackup: b, vaultKeyBackupShare: sh } = this.#t;
    const account = backup.account.toLowerCase();
    await this.#atomically((tx) => [
      tx.delete(sh).where(eq(sh.account, account)),
      tx.delete(b).where(eq(b.account, account)),
      tx.insert(b).values({ ...backup, account }),
      ...(shares.length ? [tx.insert(sh).values(shares.map((s) => ({ ...s, account, guardian: s.guardian.toLowerCase() })))] : []),
    ]);
  }

  /** An account's key backup with its shares (by guardian address), or null. */
  async keyBackup(account: string): Promise<(KeyBackupRow & { shares: KeyBackupShareRow[] }) | null> {
    const { vaultKeyBackup: b, vaultKeyBackupShare: sh } = this.#t;
    const [row] = (await this.#db.select().from(b).where(eq(b.account, account.toLowerCase()))) as KeyBackupRow[];
    if (!row) return null;
    const shares: KeyBackupShareRow[] = await this.#db.select().from(sh).where(eq(sh.account, row.account)).orderBy(asc(sh.guardian));
    return { ...row, shares };
  }

  /** Stores a guardian's released share; one already stored for that recovery is kept. Resolves with whether it was new. */
  async insertReleasedShare(row: ReleasedShareRow): Promise<boolean> {
    const t = this.#t.vaultReleasedShare;
    const changed = await this.#atomically((tx) => [
      tx.insert(t).values({ ...row, account: row.account.toLowerCase(), guardian: row.guardian.toLowerCase() }).onConflictDoNothing(),
    ]);
    return changed > 0;
  }

  /** The shares guardians released for one recovery of an account, by guardian address. */
  async releasedShares(account: string, nonce: number): Promise<ReleasedShareRow[]> {
    const t = this.#t.vaultReleasedShare;
    return this.#db.select().from(t).where(and(eq(t.account, account.toLowerCase()), eq(t.nonce, nonce))).orderBy(asc(t.guardian));
  }

  /** Stores an earlier secret of the account sealed to its current key; the same public key sealed again replaces the older entry. */
  async putKeyring(rows: readonly KeyringRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const t = this.#t.vaultKeyring;
    return this.#atomically((tx) =>
      rows.map((r) =>
        tx
          .insert(t)
          .values({ ...r, account: r.account.toLowerCase(), publicKey: r.publicKey.toLowerCase() })
          .onConflictDoUpdate({ target: [t.account, t.publicKey], set: { sealedSecret: r.sealedSecret, createdAt: r.createdAt } }),
      ),
    );
  }

  /** An account's keyring: its earlier secrets, each sealed to its current key, oldest first. */
  async keyring(account: string): Promise<KeyringRow[]> {
    const t = this.#t.vaultKeyring;
    return this.#db.select().from(t).where(eq(t.account, account.toLowerCase())).orderBy(asc(t.createdAt), asc(t.publicKey));
  }

  /**
   * Replaces the sealed data keys of the patient's versions (a key rotation re-seals each to the new
   * key), all or nothing. Only the patient's own versions change, and never an erased one: its key
   * stays destroyed. Resolves with how many versions changed.
   */
  async replaceSealedKeys(patient: string, updates: ReadonlyArray<{ recordId: string; version: number; sealedKey: string }>): Promise<number> {
    if (updates.length === 0) return 0;
    const t = this.#t.vaultRecordVersion;
    const owner = patient.toLowerCase();
    return this.#atomically((tx) =>
      updates.map((u) =>
        tx
          .update(t)
          .set({ sealedKey: u.sealedKey })
          .where(and(eq(t.patient, owner), eq(t.recordId, u.recordId), eq(t.version, u.version), sql`${t.sealedKey} is not null`)),
      ),
    );
  }

  close(): Promise<void> {
    return this.#close();
  }
}
