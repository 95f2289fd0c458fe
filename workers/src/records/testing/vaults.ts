// The databases the vault tests run against: SQLite in a temp folder, PGlite in memory, and a real
// PostgreSQL server when TEST_DATABASE_URL is set (CI sets it), one fresh schema per vault.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchemas } from '../../indexer/testing/stores.ts';
import { Vault } from '../vault.ts';

export interface VaultKind {
  name: 'sqlite' | 'pglite' | 'postgres';
  open(): Promise<Vault>;
  /** Environment for a child process (the CLI) to open a vault of this kind; fresh per call. */
  childEnv(): Record<string, string>;
  cleanup(): Promise<void>;
}

export function vaultKinds(): VaultKind[] {
  const dirs: string[] = [];
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'consentry-vault-'));
    dirs.push(d);
    return d;
  };
  const removeDirs = () => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  };
  const kinds: VaultKind[] = [
    { name: 'sqlite', open: () => Vault.open({ dataDir: temp() }), childEnv: () => ({ DATA_DIR: temp() }), cleanup: async () => removeDirs() },
    { name: 'pglite', open: () => Vault.open({ pglite: temp() }), childEnv: () => ({ DATA_DIR: temp() }), cleanup: async () => removeDirs() },
  ];
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    const schemas: string[] = [];
    const fresh = () => {
      const s = `vault_${randomBytes(6).toString('hex')}`;
      schemas.push(s);
      return s;
    };
    kinds.push({
      name: 'postgres',
      open: () => Vault.open({ databaseUrl: url, databaseSchema: fresh() }),
      childEnv: () => ({ DATA_DIR: temp(), DATABASE_URL: url, VAULT_DATABASE_SCHEMA: fresh() }),
      async cleanup() {
        removeDirs();
        await dropSchemas(url, schemas.splice(0));
      },
    });
  }
  return kinds;
}
