// The notifier's storage: patients' webhooks and the deliveries made to them. SQLite in
// DATA_DIR/notify.sqlite by default, PostgreSQL with DATABASE_URL (schema NOTIFY_DATABASE_SCHEMA if
// set), PGlite in tests. Its own tables and migration journal (drizzle/notify-<dialect>), apart
// from the indexer's, so re-indexing never drops a webhook. Used by the web server (a patient sets
// or clears a webhook) and by the notifier worker (queues and delivers).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import { and, asc, desc, eq, inArray, lte } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { ConsentryError } from '@consentry/sdk/errors';
import * as pgSchema from '../db/schema/pg/notify.ts';
import * as sqliteSchema from '../db/schema/sqlite/notify.ts';

export class NotifyError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'NotifyError';
  }
}

export type WebhookRow = typeof sqliteSchema.notifyWebhook.$inferSelect;
export type DeliveryRow = typeof sqliteSchema.notifyDelivery.$inferSelect;
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';
/** What a patient sees of their webhook: never the secret after it was first handed out. */
export type WebhookInfo = { url: string; createdAt: number; fromBlock: number };

export const NOTIFY_SQLITE_FILE = 'notify.sqlite';
const MIGRATIONS_TABLE = '__notify_migrations';

export interface NotifyStoreOptions {
  databaseUrl?: string;
  databaseSchema?: string;
  /** An open PGlite instance (tests), or a directory to persist one in. */
  pglite?: PGlite | string;
  /** Otherwise SQLite at `<dataDir>/notify.sqlite`. */
  dataDir?: string;
}

/** Where the configuration puts the notifier's tables (like the vault's). */
export function notifyOptionsFor(config: { DATABASE_URL?: string | undefined; DATA_DIR: string }, env: Record<string, string | undefined> = process.env): NotifyStoreOptions {
  if (!config.DATABASE_URL) return { dataDir: config.DATA_DIR };
  const schema = env.NOTIFY_DATABASE_SCHEMA;
  return { databaseUrl: config.DATABASE_URL, ...(schema ? { databaseSchema: schema } : {}) };
}

function migrationsFolder(dialect: 'sqlite' | 'postgresql'): string {
  const pkg = createRequire(import.meta.url).resolve('@consentry/workers/package.json');
  return join(dirname(pkg), 'drizzle', `notify-${dialect}`);
}

// The two dialects' tables have the same TypeScript fields; queries are typed by the SQLite ones.
type Tables = typeof sqliteSchema;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = any;

export class NotifyStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly location: string;
  readonly #db: AnyDb;
  readonly #t: Tables;
  readonly #close: () => Promise<void>;

  private constructor(dialect: 'sqlite' | 'postgres', location: string, db: AnyDb, close: () => Promise<void>) {
    this.dialect = dialect;
    this.location = location;
    this.#db = db;
    this.#t = (dialect === 'sqlite' ? sqliteSchema : pgSchema) as Tables;
    this.#close = close;
  }

  static async open(options: NotifyStoreOptions): Promise<NotifyStore> {
    try {
      if (options.databaseUrl) return await NotifyStore.#openPostgres(options.databaseUrl, options.databaseSchema);
      if (options.pglite !== undefined) return await NotifyStore.#openPglite(options.pglite);
      if (!options.dataDir) throw new NotifyError('NOTIFY_CONFIG', 'The notifier needs DATABASE_URL or a data directory');
      return NotifyStore.#openSqlite(join(options.dataDir, NOTIFY_SQLITE_FILE));
    } catch (err) {
      if (err instanceof NotifyError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new NotifyError('NOTIFY_OPEN_FAILED', `Cannot open the notifier's database: ${reason}`, { cause: err });
    }
  }

  static #openSqlite(file: string): NotifyStore {
    mkdirSync(dirname(file), { recursive: true });
    const sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 10000');
    const db = drizzleSqlite({ client: sqlite, schema: sqliteSchema });
    migrateSqlite(db, { migrationsFolder: migrationsFolder('sqlite'), migrationsTable: MIGRATIONS_TABLE });
    return new NotifyStore('sqlite', `sqlite:${file}`, db, async () => {
      if (sqlite.open) sqlite.close();
    });
  }

  static async #openPglite(source: PGlite | string): Promise<NotifyStore> {
    const [{ PGlite }, { drizzle }, { migrate }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
    ]);
    const owns = typeof source === 'string';
    const client = typeof source === 'string' ? new PGlite(source) : source;
    await client.waitReady;
    const db = drizzle({ client, schema: pgSchema });
    await migrate(db, { migrationsFolder: migrationsFolder('postgresql'), migrationsTable: MIGRATIONS_TABLE });
    return new NotifyStore('postgres', owns ? `pglite:${source}` : 'pglite', db, async () => {
      if (owns && !client.closed) await client.close();
    });
  }

  static async #openPostgres(url: string, schema?: string): Promise<NotifyStore> {
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new NotifyError('NOTIFY_CONFIG', `Invalid PostgreSQL schema name "${schema}" (NOTIFY_DATABASE_SCHEMA)`);
    }
    const [{ default: pg }, { drizzle }, { migrate }] = await Promise.all([
      import('pg'),
      import('drizzle-orm/node-postgres'),
      import('drizzle-orm/node-postgres/migrator'),
    ]);
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
    pool.on('error', () => undefined);
    try {
      if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const db = drizzle({ client: pool, schema: pgSchema });
      await migrate(db, { migrationsFolder: migrationsFolder('postgresql'), migrationsTable: MIGRATIONS_TABLE, ...(schema ? { migrationsSchema: schema } : {}) });
      const where = new URL(url);
      return new NotifyStore('postgres', `postgres://${where.host}${where.pathname}`, db, () => pool.end());
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  async #all<T>(query: AnyDb): Promise<T[]> {
    return this.dialect === 'sqlite' ? (query.all() as T[]) : ((await query) as T[]);
  }

  async #run(query: AnyDb): Promise<void> {
    if (this.dialect === 'sqlite') query.run();
    else await query;
  }

  /** Runs `build`'s statements in one transaction. */
  async #atomically(build: (tx: AnyDb) => AnyDb[]): Promise<void> {
    if (this.dialect === 'sqlite') {
      this.#db.transaction((tx: AnyDb) => {
        for (const s of build(tx)) s.run();
      });
      return;
    }
    await this.#db.transaction(async (tx: AnyDb) => {
      for (const s of build(tx)) await s;
    });
  }

  /**
   * Sets (or replaces) a patient's webhook with a fresh secret, returned once. Events of blocks after
   * `fromBlock` are delivered; pending deliveries of a replaced webhook go to the new URL.
   */
  async setWebhook(patient: string, url: string, fromBlock: number, now = Date.now()): Promise<WebhookInfo & { secret: string }> {
    const t = this.#t.notifyWebhook;
    const row: WebhookRow = { patient: patient.toLowerCase(), url, secret: randomBytes(32).toString('hex'), fromBlock, cursorBlock: fromBlock, createdAt: now };
    await this.#run(
      this.#db.insert(t).values(row).onConflictDoUpdate({ target: t.patient, set: { url: row.url, secret: row.secret, createdAt: row.createdAt } }),
    );
    const stored = (await this.webhookRow(patient))!;
    return { url: stored.url, secret: stored.secret, createdAt: stored.createdAt, fromBlock: stored.fromBlock };
  }

  /** The patient's webhook without its secret, or null. */
  async webhook(patient: string): Promise<WebhookInfo | null> {
    const row = await this.webhookRow(patient);
    return row && { url: row.url, createdAt: row.createdAt, fromBlock: row.fromBlock };
  }

  async webhookRow(patient: string): Promise<WebhookRow | null> {
    const t = this.#t.notifyWebhook;
    const [row] = await this.#all<WebhookRow>(this.#db.select().from(t).where(eq(t.patient, patient.toLowerCase())));
    return row ?? null;
  }

  /** Removes the webhook and cancels its pending deliveries; false when there was none. */
  async clearWebhook(patient: string): Promise<boolean> {
    const p = patient.toLowerCase();
    const existed = (await this.webhookRow(p)) !== null;
    const { notifyWebhook: w, notifyDelivery: d } = this.#t;
    await this.#atomically((tx) => [
      tx.delete(w).where(eq(w.patient, p)),
      tx.update(d).set({ status: 'cancelled' }).where(and(eq(d.patient, p), eq(d.status, 'pending'))),
    ]);
    return existed;
  }

  /** Every webhook, with its secret (for the notifier). */
  async webhooks(): Promise<WebhookRow[]> {
    const t = this.#t.notifyWebhook;
    return this.#all<WebhookRow>(this.#db.select().from(t).orderBy(asc(t.patient)));
  }

  /**
   * Queues deliveries (one per patient and event: a second queueing of the same event is ignored)
   * and moves the patients' cursors, in one transaction.
   */
  async enqueue(deliveries: ReadonlyArray<Pick<DeliveryRow, 'patient' | 'eventId' | 'kind' | 'body'>>, cursors: ReadonlyArray<{ patient: string; block: number }>, now = Date.now()): Promise<void> {
    const { notifyWebhook: w, notifyDelivery: d } = this.#t;
    await this.#atomically((tx) => [
      ...(deliveries.length === 0
        ? []
        : [
            tx
              .insert(d)
              .values(
                deliveries.map((x) => ({
                  id: `${x.patient}:${x.eventId}`,
                  ...x,
                  status: 'pending',
                  attempts: 0,
                  nextAttemptAt: now,
                  lastStatus: null,
                  lastError: null,
                  createdAt: now,
                  deliveredAt: null,
                })),
              )
              .onConflictDoNothing(),
          ]),
      ...cursors.map((c) => tx.update(w).set({ cursorBlock: c.block }).where(eq(w.patient, c.patient))),
    ]);
  }

  /** Pending deliveries due at `now`, oldest first. */
  async dueDeliveries(now: number, limit: number): Promise<DeliveryRow[]> {
    const d = this.#t.notifyDelivery;
    return this.#all<DeliveryRow>(
      this.#db.select().from(d).where(and(eq(d.status, 'pending'), lte(d.nextAttemptAt, now))).orderBy(asc(d.nextAttemptAt), asc(d.createdAt)).limit(limit),
    );
  }

  async markDelivered(id: string, attempts: number, httpStatus: number, now = Date.now()): Promise<void> {
    const d = this.#t.notifyDelivery;
    await this.#run(this.#db.update(d).set({ status: 'delivered', attempts, lastStatus: httpStatus, lastError: null, deliveredAt: now }).where(eq(d.id, id)));
  }

  /** Records a failed attempt: retried at `nextAttemptAt`, or failed for good when `giveUp`. */
  async markAttemptFailed(id: string, attempts: number, failure: { status: number | null; error: string }, nextAttemptAt: number, giveUp: boolean): Promise<void> {
    const d = this.#t.notifyDelivery;
    await this.#run(
      this.#db
        .update(d)
        .set({ status: giveUp ? 'failed' : 'pending', attempts, lastStatus: failure.status, lastError: failure.error, nextAttemptAt })
        .where(eq(d.id, id)),
    );
  }

  async cancel(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const d = this.#t.notifyDelivery;
    await this.#run(this.#db.update(d).set({ status: 'cancelled' }).where(inArray(d.id, [...ids])));
  }

  /** A patient's deliveries, newest first. */
  async deliveries(patient: string, limit = 100): Promise<DeliveryRow[]> {
    const d = this.#t.notifyDelivery;
    return this.#all<DeliveryRow>(this.#db.select().from(d).where(eq(d.patient, patient.toLowerCase())).orderBy(desc(d.createdAt), desc(d.id)).limit(limit));
  }

  async close(): Promise<void> {
    await this.#close();
  }
}
