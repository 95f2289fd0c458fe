/**
 * The issuer's signing key: ISSUER_PRIVATE_KEY when given (a clinic's managed key), else one
 * generated on first start and kept in DATA_DIR/issuer/key.json (mode 0600), so a local issuer keeps
 * its identity, and its place in the issuers tree, across restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Hex } from 'viem';
import { ConfigError } from '@consentry/sdk/errors';
import { issuerKeyFromSecret, type IssuerKey } from '@consentry/sdk/zk/credential';

export const issuerSecretSchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 32-byte hex secret (0x + 64 hex digits)');
const keyFileSchema = z.object({ privateKey: issuerSecretSchema });

export const issuerKeyFile = (dataDir: string): string => join(dataDir, 'issuer', 'key.json');

export function loadIssuerKey(opts: { privateKey?: string; dataDir: string }): IssuerKey & { source: string } {
  if (opts.privateKey) {
    const parsed = issuerSecretSchema.safeParse(opts.privateKey);
    if (!parsed.success) throw new ConfigError(`ISSUER_PRIVATE_KEY ${parsed.error.issues[0]!.message}`);
    return { ...issuerKeyFromSecret(parsed.data as Hex), source: 'ISSUER_PRIVATE_KEY' };
  }
  const file = issuerKeyFile(opts.dataDir);
  if (!existsSync(file)) {
    mkdirSync(join(opts.dataDir, 'issuer'), { recursive: true, mode: 0o700 });
    // 'wx': two processes starting at once must not each write a different key.
    try {
      writeFileSync(file, JSON.stringify({ privateKey: `0x${randomBytes(32).toString('hex')}` }), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  let secret: string;
  try {
    secret = keyFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).privateKey;
  } catch {
    throw new ConfigError(`${file} does not hold an issuer key ({"privateKey": "0x…"}); move it away to have a new one made`);
  }
  chmodSync(file, 0o600);
  return { ...issuerKeyFromSecret(secret as Hex), source: file };
}
