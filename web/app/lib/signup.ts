import type { Address, Hex } from 'viem';
import type { Config } from 'wagmi';
import { signTypedData, simulateContract, waitForTransactionReceipt, writeContract } from 'wagmi/actions';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { deriveEncryptionKeyPair, keyDerivationTypedData, keyFingerprint } from '@consentry/sdk/keys';
import { describeError, type ErrorStage } from './errors.ts';
import { rememberKey } from './keyring.ts';

/** Where a sign-up is; each stage is shown to the patient as it happens. */
export type SignUpProgress =
  | { stage: 'idle' }
  | { stage: 'signing' }
  | { stage: 'sending'; fingerprint: string }
  | { stage: 'pending'; fingerprint: string; hash: Hex }
  | { stage: 'confirmed'; fingerprint: string; hash: Hex; blockNumber: bigint }
  | { stage: 'failed'; reason: string; during: ErrorStage; hash?: Hex };

export interface SignUpContext {
  config: Config;
  account: Address;
  chainId: number;
  registry: Address;
  rpcUrl: string;
}

/**
 * The patient sign-up: sign the key-derivation message, derive the X25519 key pair here,
 * keep the secret in memory, and register the public key on chain. Never throws: every
 * failure ends in a `failed` stage with the reason in words.
 */
export async function signUp(ctx: SignUpContext, report: (p: SignUpProgress) => void): Promise<void> {
  const fail = (err: unknown, during: ErrorStage, hash?: Hex) =>
    report({ stage: 'failed', reason: describeError(err, { rpcUrl: ctx.rpcUrl, stage: during }), during, ...(hash ? { hash } : {}) });

  report({ stage: 'signing' });
  let fingerprint: string;
  let publicKeyHex: Hex;
  try {
    const signature = await signTypedData(ctx.config, { account: ctx.account, ...keyDerivationTypedData(ctx.chainId) });
    const pair = deriveEncryptionKeyPair(signature);
    rememberKey(ctx.account, pair);
    fingerprint = keyFingerprint(pair.publicKey);
    publicKeyHex = pair.publicKeyHex;
  } catch (err) {
    return fail(err, 'signing');
  }

  report({ stage: 'sending', fingerprint });
  let hash: Hex;
  try {
    // Simulating first turns a revert (e.g. already registered) into a decoded error before
    // the wallet is asked to pay for a transaction that would fail.
    const { request } = await simulateContract(ctx.config, {
      address: ctx.registry,
      abi: patientRegistryAbi,
      functionName: 'register',
      args: [publicKeyHex],
      account: ctx.account,
      chainId: ctx.chainId,
    });
    hash = await writeContract(ctx.config, request);
  } catch (err) {
    return fail(err, 'transaction');
  }

  report({ stage: 'pending', fingerprint, hash });
  try {
    const receipt = await waitForTransactionReceipt(ctx.config, { hash, chainId: ctx.chainId, timeout: 120_000 });
    if (receipt.status !== 'success') {
      return report({ stage: 'failed', reason: 'The transaction was reverted on chain', during: 'transaction', hash });
    }
    report({ stage: 'confirmed', fingerprint, hash, blockNumber: receipt.blockNumber });
  } catch (err) {
    return fail(err, 'transaction', hash);
  }
}
