/**
 * The relayer's account: RELAYER_PRIVATE_KEY when given (a managed, funded key), else one generated
 * on first start and kept in DATA_DIR/relayer/key.json (mode 0600). Its own account, never the
 * deployer's or a development wallet's: those send transactions of their own, and two senders on
 * one account collide on nonces. On the local chain `fundLocalRelayer` tops it up from the deployer.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEther, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { ConfigError, ConsentryError } from '@consentry/sdk/errors';

export const relayerKeySchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 32-byte hex private key (0x + 64 hex digits)');
const keyFileSchema = z.object({ privateKey: relayerKeySchema });

export const relayerKeyFile = (dataDir: string): string => join(dataDir, 'relayer', 'key.json');

export interface RelayerKey {
  privateKey: Hex;
  address: Address;
  /** RELAYER_PRIVATE_KEY or the key file's path (for the log: never the key). */
  source: string;
}

export function loadRelayerKey(opts: { privateKey?: string | undefined; dataDir: string }): RelayerKey {
  if (opts.privateKey) {
    const parsed = relayerKeySchema.safeParse(opts.privateKey);
    if (!parsed.success) throw new ConfigError(`RELAYER_PRIVATE_KEY ${parsed.error.issues[0]!.message}`);
    const privateKey = parsed.data as Hex;
    return { privateKey, address: privateKeyToAccount(privateKey).address, source: 'RELAYER_PRIVATE_KEY' };
  }
  const file = relayerKeyFile(opts.dataDir);
  if (!existsSync(file)) {
    mkdirSync(join(opts.dataDir, 'relayer'), { recursive: true, mode: 0o700 });
    // 'wx': two processes starting at once must not each write a different key.
    try {
      writeFileSync(file, JSON.stringify({ privateKey: `0x${randomBytes(32).toString('hex')}` }), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  let privateKey: Hex;
  try {
    privateKey = keyFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).privateKey as Hex;
  } catch {
    throw new ConfigError(`${file} does not hold a relayer key ({"privateKey": "0x…"}); move it away to have a new one made`);
  }
  chmodSync(file, 0o600);
  return { privateKey, address: privateKeyToAccount(privateKey).address, source: file };
}

/**
 * Local chain only (31337): sends the relayer ether from `funderKey` when it holds less than
 * `minimum` (default 10 ETH), up to `target` (default 100 ETH). Returns what it sent (0 when none).
 */
export async function fundLocalRelayer(opts: {
  rpcUrl: string;
  chainId: number;
  funderKey: Hex;
  address: Address;
  minimum?: bigint;
  target?: bigint;
}): Promise<bigint> {
  if (opts.chainId !== 31337) throw new ConsentryError('NOT_LOCAL_CHAIN', 'Only the local chain (31337) funds its relayer automatically: send it ether yourself');
  const client = publicClientFor(opts.rpcUrl, opts.chainId);
  const balance = await client.getBalance({ address: opts.address });
  const minimum = opts.minimum ?? parseEther('10');
  const target = opts.target ?? parseEther('100');
  if (balance >= minimum) return 0n;
  const value = target - balance;
  const wallet = walletClientFor(opts.rpcUrl, opts.chainId, opts.funderKey);
  const hash = await wallet.sendTransaction({ to: opts.address, value, account: wallet.account, chain: wallet.chain });
  const receipt = await client.waitForTransactionReceipt({ hash, timeout: 60_000 });
  if (receipt.status !== 'success') throw new ConsentryError('FUNDING_FAILED', `Funding the relayer ${opts.address} reverted (transaction ${hash})`);
  return value;
}
