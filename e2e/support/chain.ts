import type { Address, PublicClient } from 'viem';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';

/** Moves the local chain's clock forward by `seconds` and mines a block at the new time (anvil only). */
export async function advanceChainTime(client: PublicClient, seconds: number): Promise<void> {
  await client.request({ method: 'evm_increaseTime', params: [seconds] } as never);
  await client.request({ method: 'evm_mine', params: [] } as never);
}

/** Development account `index`'s encryption key, derived in Node exactly as its browser derives it. */
export async function devAccountKeys(rpcUrl: string, chainId: number, index: number): Promise<EncryptionKeyPair> {
  const wallet = walletClientFor(rpcUrl, chainId, ANVIL_ACCOUNTS[index]!.privateKey);
  return deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(chainId)));
}

/** Registers development accounts as patients with their derived keys (skips those already registered). */
export async function registerDevPatients(client: PublicClient, rpcUrl: string, chainId: number, registry: Address, indices: readonly number[]): Promise<void> {
  for (const index of indices) {
    const { address, privateKey } = ANVIL_ACCOUNTS[index]!;
    if (await client.readContract({ address: registry, abi: patientRegistryAbi, functionName: 'isRegistered', args: [address] })) continue;
    const keys = await devAccountKeys(rpcUrl, chainId, index);
    const wallet = walletClientFor(rpcUrl, chainId, privateKey);
    const hash = await wallet.writeContract({ address: registry, abi: patientRegistryAbi, functionName: 'register', args: [keys.publicKeyHex], chain: wallet.chain, account: wallet.account });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`Registering development account ${index} was reverted`);
  }
}
