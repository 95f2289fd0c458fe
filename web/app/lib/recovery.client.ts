/**
 * Key loss and recovery in the browser (issue 9, decision 031). What the chain says about an account
 * (its controller, guardians, a pending guardian change, an active or completed recovery, its key),
 * the patient's, guardians' and new wallet's transactions, and the key work that must happen here:
 * splitting the encryption secret to the guardians, a guardian re-sealing its share to the recovery
 * key, the new wallet putting the old secret back together (or reading it from the paper phrase), and
 * the rotation that re-seals every record's data key to the new wallet's key. Secrets stay in this
 * page; the server receives only ciphertext (sealed shares, sealed keys, the sealed old secret).
 */
import { getAddress, zeroAddress, type Address, type Hex } from 'viem';
import type { Config } from 'wagmi';
import { simulateContract, waitForTransactionReceipt, writeContract } from 'wagmi/actions';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import type { EncryptionKeyPair } from '@consentry/sdk/keys';
import { recoverSecretFromReleased, releaseBackupShare, splitKeyBackup, type RecoveryTerms } from '@consentry/sdk/recovery/backup';
import { secretFromPaperPhrase } from '@consentry/sdk/recovery/paper';
import { keyringEntry, openKeyring, type KeyringEntry } from '@consentry/sdk/recovery/keyring';
import { readRecoveryState as readChainRecoveryState } from '@consentry/sdk/recovery/actions';
import { resealVersions, type RotationProgress, type RotationResult, type SealedVersion } from '@consentry/sdk/recovery/rotation';
import { fromBase64, toBase64 } from '@consentry/sdk/records/versions';
import { chainClient } from './access.client.ts';
import { describeError } from './errors.ts';
import type { PublicConfig } from './public-config.ts';
import { api, ApiCallError, ensureSession, fetchRecords } from './records.client.ts';
import { sameAddress, type CompletedRecovery, type RecoveryState, type StoredBackup } from './recovery.ts';

const ZERO_KEY: Hex = `0x${'00'.repeat(32)}`;

export function registryOf(config: PublicConfig): Address {
  const r = config.contracts?.PatientRegistry;
  if (!r) throw new ApiCallError('NO_REGISTRY', 'The patient registry is not deployed on this chain yet. Start Consentry with `npm start`.');
  return r;
}

/** Everything the chain says about the recovery of `account` (sdk readRecoveryState), with times as numbers for the page. */
export async function readRecoveryState(config: PublicConfig, account: Address): Promise<RecoveryState> {
  const s = await readChainRecoveryState(chainClient(config.rpcUrl), registryOf(config), account);
  return {
    ...s,
    account: getAddress(account),
    registered: s.controller !== null,
    pendingChange: s.pendingChange ? { ...s.pendingChange, effectiveAt: Number(s.pendingChange.effectiveAt) } : null,
    active: s.active ? { ...s.active, startedAt: Number(s.active.startedAt), readyAt: Number(s.active.readyAt) } : null,
    completed: s.completed ? { ...s.completed, completedAt: Number(s.completed.completedAt) } : null,
    encryptionKey: s.encryptionKey && s.encryptionKey !== ZERO_KEY ? s.encryptionKey : null,
    now: Number(s.now),
  };
}

/** The account `wallet` controls, or null when it controls none (PatientRegistry.accountOf). */
export async function readAccountOf(config: PublicConfig, wallet: Address): Promise<Address | null> {
  const account = await chainClient(config.rpcUrl).readContract({ address: registryOf(config), abi: patientRegistryAbi, functionName: 'accountOf', args: [wallet] });
  return account === zeroAddress ? null : account;
}

/**
 * A would-be guardian's Consentry key: the encryption key of the account its wallet controls. Null
 * when the wallet controls no account, i.e. has never signed up (a guardian needs a key to receive a share).
 */
export async function guardianKeyOf(config: PublicConfig, guardian: Address): Promise<Hex | null> {
  const account = await readAccountOf(config, guardian);
  if (!account) return null;
  const key = await chainClient(config.rpcUrl).readContract({ address: registryOf(config), abi: patientRegistryAbi, functionName: 'encryptionKeyOf', args: [account] });
  return key === ZERO_KEY ? null : key;
}

/**
 * The accounts that name `wallet` among their guardians now: every GuardiansChanged since the
 * deployment that lists it, checked against the guardians in force today.
 */
export async function accountsGuardedBy(config: PublicConfig, wallet: Address): Promise<Address[]> {
  const client = chainClient(config.rpcUrl);
  const logs = await client.getContractEvents({ address: registryOf(config), abi: patientRegistryAbi, eventName: 'GuardiansChanged', fromBlock: BigInt(config.startBlock) });
  const named = new Set<Address>();
  for (const l of logs) {
    const args = l.args as { account?: Address; guardians?: readonly Address[] };
    if (args.account && args.guardians?.some((g) => sameAddress(g, wallet))) named.add(getAddress(args.account));
  }
  const now = await Promise.all(
    [...named].map(async (account) => {
      const [guardians] = await client.readContract({ address: registryOf(config), abi: patientRegistryAbi, functionName: 'guardiansOf', args: [account] });
      return guardians.some((g) => sameAddress(g, wallet)) ? account : null;
    }),
  );
  return now.filter((a): a is Address => a !== null);
}

// ---------------------------------------------------------------------------------------------
// Transactions

/** One transaction's progress, shown next to the button that sent it. */
export type TxProgress =
  | { phase: 'idle' }
  | { phase: 'signing'; what: string }
  | { phase: 'pending'; what: string; hash: Hex }
  | { phase: 'confirmed'; what: string; hash: Hex; blockNumber: bigint }
  | { phase: 'failed'; what: string; problem: string; hash?: Hex };

export type RegistryCall =
  | { functionName: 'setGuardians'; args: readonly [readonly Address[], number, number] }
  | { functionName: 'applyGuardianChange'; args: readonly [Address] }
  | { functionName: 'cancelGuardianChange'; args: readonly [] }
  | { functionName: 'startRecovery'; args: readonly [Address, Address, Hex] }
  | { functionName: 'approveRecovery'; args: readonly [Address, bigint] }
  | { functionName: 'cancelRecovery'; args: readonly [] }
  | { functionName: 'completeRecovery'; args: readonly [Address] }
  | { functionName: 'rotateEncryptionKey'; args: readonly [Hex] };

/**
 * Sends one PatientRegistry transaction from the connected wallet: simulated first, so a refusal is
 * said in words before anything is signed; then pending until the chain confirms it. Never throws:
 * resolves true when confirmed, and every failure ends in `failed` with the reason in words.
 */
export async function sendRegistryTx(
  wagmi: Config,
  config: PublicConfig,
  from: Address,
  what: string,
  call: RegistryCall,
  report: (p: TxProgress) => void,
): Promise<boolean> {
  report({ phase: 'signing', what });
  let hash: Hex;
  try {
    const { request } = await simulateContract(wagmi, {
      address: registryOf(config),
      abi: patientRegistryAbi,
      functionName: call.functionName,
      args: call.args,
      account: from,
      chainId: config.chainId,
    } as never);
    hash = await writeContract(wagmi, request as never);
  } catch (err) {
    report({ phase: 'failed', what, problem: describeError(err, { rpcUrl: config.rpcUrl, stage: 'transaction' }) });
    return false;
  }
  report({ phase: 'pending', what, hash });
  try {
    const receipt = await waitForTransactionReceipt(wagmi, { hash, chainId: config.chainId, timeout: 120_000 });
    if (receipt.status !== 'success') {
      report({ phase: 'failed', what, problem: 'The transaction was reverted on chain', hash });
      return false;
    }
    report({ phase: 'confirmed', what, hash, blockNumber: receipt.blockNumber });
    return true;
  } catch (err) {
    report({ phase: 'failed', what, problem: describeError(err, { rpcUrl: config.rpcUrl, stage: 'transaction' }), hash });
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The guardians' backup of the encryption secret

/** The account's backup as the server keeps it (ciphertext only), or null when there is none. */
export async function fetchBackup(account: Address): Promise<StoredBackup | null> {
  try {
    return await api<StoredBackup>(`/api/recovery/backup?account=${account}`, { method: 'GET' });
  } catch (err) {
    if (err instanceof ApiCallError && (err.code === 'HTTP_404' || /NOT_FOUND|NO_BACKUP/.test(err.code))) return null;
    throw err;
  }
}

/**
 * Splits the account's encryption secret t-of-m, one share sealed to each guardian's key on chain,
 * and stores the sealed shares (replacing the previous backup). The secret must be the account's
 * current key: the server checks the backup's public key against the chain.
 */
export async function backUpToGuardians(opts: { wagmi: Config; config: PublicConfig; wallet: Address; keys: EncryptionKeyPair; state: RecoveryState }): Promise<{ backupId: Hex }> {
  const { wagmi, config, wallet, keys, state } = opts;
  if (state.guardians.length === 0) throw new ApiCallError('NO_GUARDIANS', 'Name your guardians first: the backup is split between them');
  if (!state.encryptionKey || state.encryptionKey.toLowerCase() !== keys.publicKeyHex.toLowerCase()) {
    throw new ApiCallError('KEY_NOT_CURRENT', "This wallet's key is not your account's key on chain: restore and rotate your key first");
  }
  const guardians = await Promise.all(
    state.guardians.map(async (address) => {
      const publicKey = await guardianKeyOf(config, address);
      if (!publicKey) throw new ApiCallError('GUARDIAN_NO_KEY', `Guardian ${address} has no Consentry key (they have not signed up), so no share can be sealed to them`);
      return { address, publicKey };
    }),
  );
  const backup = await splitKeyBackup({ secretKey: keys.secretKey, account: state.account, guardians, threshold: state.threshold });
  await ensureSession(wagmi, wallet, config.chainId);
  await api('/api/recovery/backup', {
    method: 'POST',
    body: JSON.stringify({
      backupId: backup.backupId,
      threshold: state.threshold,
      publicKey: backup.publicKey,
      shares: backup.shares.map((s) => ({ guardian: s.guardian, sealedShare: toBase64(s.sealedShare) })),
    }),
  });
  return { backupId: backup.backupId };
}

const termsOf = (account: Address, c: CompletedRecovery): RecoveryTerms => ({ account, nonce: c.nonce, newController: c.newController, recoveryKey: c.recoveryKey });

export interface ReleasedShares {
  shares: Array<{ guardian: Address; releasedShare: string }>;
}

export const fetchReleased = (account: Address, nonce: bigint): Promise<ReleasedShares> =>
  api<ReleasedShares>(`/api/recovery/released?account=${account}&nonce=${nonce}`, { method: 'GET' });

/**
 * A guardian releases its share for the completed recovery: it opens its backup share with its own
 * key and seals the share again to the recovery key the guardians approved on chain.
 */
export async function releaseMyShare(opts: { wagmi: Config; config: PublicConfig; guardian: Address; keys: EncryptionKeyPair; state: RecoveryState }): Promise<void> {
  const { wagmi, config, guardian, keys, state } = opts;
  if (!state.completed) throw new ApiCallError('NOT_COMPLETED', 'The chain shows no completed recovery of this account: a share is released only after one');
  const backup = await fetchBackup(state.account);
  const mine = backup?.shares.find((s) => sameAddress(s.guardian, guardian));
  if (!mine) throw new ApiCallError('NO_SHARE', 'The account left no backup share for you (it made no backup, or made it before naming you)');
  const released = releaseBackupShare({ sealedShare: fromBase64(mine.sealedShare), guardianSecretKey: keys.secretKey, recovery: termsOf(state.account, state.completed) });
  await ensureSession(wagmi, guardian, config.chainId);
  await api('/api/recovery/released', {
    method: 'POST',
    body: JSON.stringify({ account: state.account, nonce: state.completed.nonce.toString(), releasedShare: toBase64(released) }),
  });
}

/** The account's old secret from the shares the guardians released to this (new) wallet's key. */
export async function restoreFromGuardians(state: RecoveryState, keys: EncryptionKeyPair): Promise<Uint8Array> {
  if (!state.completed || !state.encryptionKey) throw new ApiCallError('NOT_COMPLETED', 'No completed recovery of this account on chain');
  const { shares } = await fetchReleased(state.account, state.completed.nonce);
  if (shares.length < state.threshold) {
    throw new ApiCallError('NOT_ENOUGH_SHARES', `${shares.length} of the ${state.threshold} guardian shares needed have been released so far; ask your guardians to release theirs`);
  }
  return recoverSecretFromReleased({
    released: shares.map((s) => fromBase64(s.releasedShare)),
    recoverySecretKey: keys.secretKey,
    recovery: termsOf(state.account, state.completed),
    expectedPublicKey: state.encryptionKey,
  });
}

/** The account's old secret from its paper phrase, checked against the account's key on chain. */
export function restoreFromPaper(state: RecoveryState, phrase: string): Uint8Array {
  if (!state.encryptionKey) throw new ApiCallError('NOT_REGISTERED', 'This account has no key on chain');
  return secretFromPaperPhrase(phrase, state.encryptionKey);
}

// ---------------------------------------------------------------------------------------------
// Rotation

export type RotationStage =
  | { stage: 'idle' }
  | { stage: 'keyring' }
  | { stage: 'chain'; tx: TxProgress }
  | { stage: 'resealing'; progress: RotationProgress }
  | { stage: 'done'; result: RotationResult }
  | { stage: 'failed'; problem: string };

const SEAL_BATCH = 200;

/** Earlier secrets the server keeps for the account (its keyring), opened here from the current key. */
export async function keyringSecrets(keys: EncryptionKeyPair): Promise<Uint8Array[]> {
  const { entries } = await api<{ entries: KeyringEntry[] }>('/api/keyring', { method: 'GET' });
  const { secrets } = openKeyring(entries, keys.secretKey);
  return [...secrets.entries()].filter(([publicKey]) => publicKey !== keys.publicKeyHex.toLowerCase()).map(([, secret]) => secret);
}

/**
 * Moves the account to this wallet's key, resumably: (1) the old secret, sealed to the new key, goes
 * to the keyring so what was derived from the old identity stays reachable; (2) the chain's key
 * becomes the new one (skipped when it already is); (3) every record version's data key is re-sealed
 * to the new key in batches ("n of N"); versions already sealed to it are skipped, so running it
 * again after an interruption finishes the job. Never throws: failures end in `failed`, in words.
 */
export async function rotateToWalletKey(
  opts: { wagmi: Config; config: PublicConfig; wallet: Address; keys: EncryptionKeyPair; state: RecoveryState; oldSecret: Uint8Array | null },
  report: (s: RotationStage) => void,
): Promise<RotationResult | null> {
  const { wagmi, config, wallet, keys, state, oldSecret } = opts;
  try {
    await ensureSession(wagmi, wallet, config.chainId);
    report({ stage: 'keyring' });
    if (oldSecret) {
      await api('/api/keyring', { method: 'POST', body: JSON.stringify(keyringEntry(oldSecret, keys.publicKey)) });
    }
    if (state.encryptionKey?.toLowerCase() !== keys.publicKeyHex.toLowerCase()) {
      if (!oldSecret) throw new ApiCallError('NO_OLD_SECRET', 'Restore your old key first (from your guardians or your paper backup): without it your records cannot be re-sealed');
      let problem = 'The key rotation was not confirmed';
      const ok = await sendRegistryTx(wagmi, config, wallet, 'Rotate the encryption key', { functionName: 'rotateEncryptionKey', args: [keys.publicKeyHex] }, (tx) => {
        if (tx.phase === 'failed') problem = tx.problem;
        report({ stage: 'chain', tx });
      });
      if (!ok) throw new ApiCallError('ROTATE_FAILED', problem);
    }
    const olds = [...(oldSecret ? [oldSecret] : []), ...(await keyringSecrets(keys).catch(() => []))];
    const data = await fetchRecords();
    const versions: SealedVersion[] = data.versions.flatMap((v) => (v.sealedKey ? [{ recordId: v.recordId, version: v.version, sealedKey: v.sealedKey }] : []));
    report({ stage: 'resealing', progress: { done: 0, total: versions.length, resealed: 0, alreadyRotated: 0 } });
    const result = await resealVersions({
      versions,
      oldSecretKeys: olds,
      newKeyPair: keys,
      batchSize: SEAL_BATCH,
      save: async (batch) => {
        await api('/api/records/sealed-keys', { method: 'POST', body: JSON.stringify({ updates: batch }) });
      },
      onProgress: (progress) => report({ stage: 'resealing', progress }),
    });
    report({ stage: 'done', result });
    return result;
  } catch (err) {
    report({ stage: 'failed', problem: err instanceof Error && !('shortMessage' in err) ? err.message : describeError(err, { rpcUrl: config.rpcUrl, stage: 'transaction' }) });
    return null;
  }
}

