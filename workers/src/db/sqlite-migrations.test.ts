// Migration 0005 pads the uint256 columns an existing SQLite index wrote unpadded: an index built
// before it (migrations up to 0004, amounts stored as bare decimal text) is opened by the current
// store, and its amounts then sort and filter as numbers and read back unchanged. Migrations 0006
// and 0007 add Patient.controller and make an index built before them start over (re-index).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'consentry-sqlite-migrations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('pads uint256 amounts written before migration 0005, which then order and filter by number', async () => {
  // The migrations as they were before 0005.
  const old = join(dir, 'migrations');
  cpSync(fileURLToPath(new URL('../../drizzle/sqlite', import.meta.url)), old, { recursive: true });
  const journalFile = join(old, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ tag: string }> };
  journal.entries = journal.entries.filter((e) => Number(e.tag.slice(0, 4)) < 5);
  writeFileSync(journalFile, JSON.stringify(journal));
  rmSync(join(old, '0005_uint256_padded.sql'));

  const file = join(dir, 'index.sqlite');
  const sqlite = new Database(file);
  migrate(drizzle({ client: sqlite }), { migrationsFolder: old });
  const insert = sqlite.prepare('insert into refund (id, purchase, study, buyer, amount, block_number, block_timestamp, transaction_hash) values (?, ?, ?, ?, ?, ?, ?, ?)');
  for (const [i, amount] of ['10', '9', (2n ** 200n).toString(), '100'].entries()) insert.run(`0x${i}`, String(i + 1), '1', '0xab', amount, 7, 1007, `0x${i}`);
  sqlite.close();

  const store = SqliteStore.open(file);
  try {
    const sorted = await store.findMany('Refund', { orderBy: 'amount', orderDirection: 'asc', first: 10, skip: 0 });
    expect(sorted.map((r) => r.amount)).toEqual([9n, 10n, 100n, 2n ** 200n]);
    const over = await store.findMany('Refund', { where: [{ field: 'amount', op: 'gte', value: 100n }], orderBy: 'amount', first: 10, skip: 0 });
    expect(over.map((r) => r.amount)).toEqual([100n, 2n ** 200n]);
  } finally {
    await store.close();
  }
});

it('makes an index built before Patient.controller re-index from its start block (0006, 0007)', async () => {
  const old = join(dir, 'before-controller');
  cpSync(fileURLToPath(new URL('../../drizzle/sqlite', import.meta.url)), old, { recursive: true });
  const journalFile = join(old, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ tag: string }> };
  journal.entries = journal.entries.filter((e) => Number(e.tag.slice(0, 4)) < 6);
  writeFileSync(journalFile, JSON.stringify(journal));

  const file = join(dir, 'before-controller.sqlite');
  const sqlite = new Database(file);
  migrate(drizzle({ client: sqlite }), { migrationsFolder: old });
  sqlite
    .prepare('insert into indexer_checkpoint (id, chain_id, contract_address, start_block, start_block_hash, block_number, block_hash, block_timestamp) values (?, ?, ?, ?, ?, ?, ?, ?)')
    .run('main', 31337, `0x${'ab'.repeat(20)}`, 1, `0x${'01'.repeat(32)}`, 9, `0x${'09'.repeat(32)}`, 1009);
  sqlite
    .prepare('insert into patient (id, encryption_key, key_rotations, registered_at_block, registered_at_timestamp, updated_at_block, updated_at_timestamp) values (?, ?, ?, ?, ?, ?, ?)')
    .run(`0x${'aa'.repeat(20)}`, `0x${'11'.repeat(32)}`, 0, 3, 1003, 3, 1003);
  sqlite.close();

  const store = SqliteStore.open(file);
  try {
    // No checkpoint: the indexer resets the tables and indexes again from the start block.
    expect(await store.readState()).toBeNull();
    expect(await store.findById('Patient', `0x${'aa'.repeat(20)}`)).toMatchObject({ controller: '' });
  } finally {
    await store.close();
  }
});
