import { createPublicClient, createWalletClient, defineChain, http, type Chain, type Hex } from 'viem';
import { ConsentryError } from './errors.ts';
import { privateKeyToAccount } from 'viem/accounts';
import { anvil } from 'viem/chains';

/** A viem chain for an id and RPC URL: anvil's definition for 31337, a generic one otherwise. */
export function chainFor(chainId: number, rpcUrl: string): Chain {
  if (chainId === anvil.id) return { ...anvil, rpcUrls: { default: { http: [rpcUrl] } } };
  return defineChain({
    id: chainId,
    name: `Chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

/** A read client; `retryCount` 0 in tests makes an unreachable RPC fail fast. */
export function publicClientFor(rpcUrl: string, chainId: number, opts: { retryCount?: number; pollingInterval?: number } = {}) {
  return createPublicClient({
    chain: chainFor(chainId, rpcUrl),
    transport: http(rpcUrl, { retryCount: opts.retryCount ?? 3, timeout: 10_000 }),
    pollingInterval: opts.pollingInterval ?? 500,
  });
}

/** A signing client for a local private key (deployer, tests, scripts; never a patient's key in a server). */
export function walletClientFor(rpcUrl: string, chainId: number, privateKey: Hex) {
  return createWalletClient({
    account: privateKeyToAccount(privateKey),
    chain: chainFor(chainId, rpcUrl),
    transport: http(rpcUrl, { retryCount: 3, timeout: 10_000 }),
  });
}

/** The origin of an RPC URL, for messages and logs: a path or query may carry an API key. */
export function rpcOrigin(rpcUrl: string): string {
  try {
    return new URL(rpcUrl).origin;
  } catch {
    return '(invalid RPC URL)';
  }
}

/**
 * Checks that `rpcUrl` answers and is the chain we expect, failing in words otherwise
 * (codes RPC_UNREACHABLE, CHAIN_ID_MISMATCH). Returns the chain id.
 */
export async function assertChain(rpcUrl: string, expectedChainId?: number): Promise<number> {
  let chainId: number;
  try {
    chainId = await publicClientFor(rpcUrl, expectedChainId ?? 31337, { retryCount: 0 }).getChainId();
  } catch (cause) {
    throw new ConsentryError('RPC_UNREACHABLE', `Cannot reach the chain at ${rpcOrigin(rpcUrl)}`, { cause });
  }
  if (expectedChainId !== undefined && chainId !== expectedChainId) {
    throw new ConsentryError(
      'CHAIN_ID_MISMATCH',
      `The chain at ${rpcOrigin(rpcUrl)} has id ${chainId}, but CHAIN_ID is ${expectedChainId}`,
    );
  }
  return chainId;
}
