/**
 * Key loss and recovery from the command line (docs/decisions/031): a patient names guardians and
 * backs up the encryption key (to the guardians, or on paper); guardians start and approve a
 * recovery of a lost wallet's account to a new wallet; the old wallet cancels one it did not ask
 * for; anyone completes it once the quorum has waited the patient's delay; each guardian then
 * releases its backup share to the new wallet. Every transaction is simulated first, so a refusal
 * is printed in words before anything is paid. Keys come as for the record commands (KEY_USAGE).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { getAddress, isAddress, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { assertChain, publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { loadConfig, type Config } from '@consentry/sdk/config';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConsentryError } from '@consentry/sdk/errors';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import { fromBase64, toBase64 } from '@consentry/sdk/records/versions';
import {
  applyGuardianChange,
  approveRecovery,
  cancelGuardianChange,
  cancelRecovery,
  completeRecovery,
  DEFAULT_RECOVERY_DELAY_S,
  MAX_RECOVERY_DELAY_S,
  MIN_RECOVERY_DELAY_S,
  patientAccountOf,
  readRecoveryState,
  rotateEncryptionKey,
  setGuardians,
  startRecovery,
  type RecoveryActionContext,
  type RecoveryState,
} from '@consentry/sdk/recovery/actions';
import { recoverSecretFromReleased, releaseBackupShare, splitKeyBackup } from '@consentry/sdk/recovery/backup';
import { keyringEntry, openKeyring } from '@consentry/sdk/recovery/keyring';
import { paperPhraseOf, secretFromPaperPhrase } from '@consentry/sdk/recovery/paper';
import { resealVersions } from '@consentry/sdk/recovery/rotation';
import { keyBackupOf, storeKeyBackup, storeKeyringEntry, storeReleasedShare, type RecoveryStores } from '../records/recovery.ts';
import { UsageError } from './command.ts';
import { KEY_OPTIONS, openVault, privateKeyFrom } from './context.ts';

interface Chain {
  config: Config;
  client: PublicClient;
  registry: Address;
}

async function openChain(): Promise<Chain> {
  const config = loadConfig();
  const registry = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR).contracts.PatientRegistry.address;
  await assertChain(config.RPC_URL, config.CHAIN_ID);
  return { config, registry, client: publicClientFor(config.RPC_URL, config.CHAIN_ID, { retryCount: 1 }) as PublicClient };
}

interface Signer extends Chain {
  ctx: RecoveryActionContext;
  wallet: Address;
  /** The wallet's X25519 key pair, derived exactly as the web app derives it. */
  keys(): Promise<EncryptionKeyPair>;
}

async function openSigner(values: { 'key-file'?: string; 'dev-account'?: string }): Promise<Signer> {
  const chain = await openChain();
  const privateKey = privateKeyFrom(values, chain.config);
  const wallet = walletClientFor(chain.config.RPC_URL, chain.config.CHAIN_ID, privateKey);
  return {
    ...chain,
    wallet: wallet.account.address,
    ctx: { wallet, client: chain.client, registry: chain.registry },
    keys: async () => deriveEncryptionKeyPair(await privateKeyToAccount(privateKey).signTypedData(keyDerivationTypedData(chain.config.CHAIN_ID))),
  };
}

/** The account the signer's wallet controls, or a refusal in words. */
async function ownAccount(s: Signer): Promise<Address> {
  const { account, controls, movedTo } = await patientAccountOf(s.client, s.registry, s.wallet);
  if (controls) return account;
  if (movedTo) throw new ConsentryError('ACCOUNT_RECOVERED', `${s.wallet} no longer controls its account: a recovery moved it to ${movedTo}`);
  throw new ConsentryError('NOT_REGISTERED', `${s.wallet} controls no Consentry account: register as a patient first (the web app's patient page)`);
}

function addressArg(given: string | undefined, what: string): Address {
  if (given === undefined || !isAddress(given, { strict: false })) throw new UsageError(`${what} must be a 0x address (40 hex digits)${given === undefined ? '' : `, not "${given}"`}`);
  return getAddress(given);
}

/** "48h", "2d", "90m" or seconds, within the contract's bounds (1 to 30 days). */
export function parseDelay(given: string | undefined): number {
  if (given === undefined) return DEFAULT_RECOVERY_DELAY_S;
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(given.trim());
  if (!m) throw new UsageError(`--delay must be a duration such as 48h, 2d or 172800 (seconds), not "${given}"`);
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  if (seconds < MIN_RECOVERY_DELAY_S || seconds > MAX_RECOVERY_DELAY_S) throw new UsageError(`--delay must be from 1 day to 30 days (given ${given})`);
  return seconds;
}

const when = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
const duration = (seconds: number) =>
  seconds % 86_400 === 0 && seconds > 2 * 86_400 ? `${seconds / 86_400} days` : seconds % 3600 === 0 ? `${seconds / 3600} h` : `${seconds} s`;

// ------------------------------------------------------------------------------------ guardians

const GUARDIANS_SUBCOMMANDS = '`guardians show [<account>]`, `guardians set <address,...> --threshold <t> [--delay 48h]`, `guardians apply [<account>]` or `guardians cancel`';

export async function runGuardians(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'show') return guardiansShow(rest);
  if (sub === 'set') return guardiansSet(rest);
  if (sub === 'apply') return guardiansApply(rest);
  if (sub === 'cancel') return guardiansCancel(rest);
  throw new UsageError(sub ? `Unknown guardians command "${sub}": ${GUARDIANS_SUBCOMMANDS}` : `Say what to do: ${GUARDIANS_SUBCOMMANDS}`);
}

function printGuardians(state: RecoveryState): void {
  if (state.guardians.length === 0) console.log(`guardians: none named for ${state.account}: it cannot be recovered if its wallet is lost`);
  else console.log(`guardians: ${state.threshold} of ${state.guardians.length} recover ${state.account} after a wait of ${duration(state.recoveryDelay)}: ${state.guardians.join(', ')}`);
  const p = state.pendingChange;
  if (p) {
    const ready = p.effectiveAt <= state.now ? 'may be applied now (`consentry guardians apply`)' : `in force from ${when(p.effectiveAt)} once applied`;
    console.log(`pending change: ${p.threshold} of ${p.guardians.length} (${p.guardians.join(', ')}), wait ${duration(p.recoveryDelay)}; ${ready}`);
  }
}

async function accountOrOwn(given: string | undefined, values: { 'key-file'?: string; 'dev-account'?: string }): Promise<{ chain: Chain; account: Address }> {
  if (given !== undefined) return { chain: await openChain(), account: addressArg(given, 'The account') };
  const s = await openSigner(values);
  return { chain: s, account: await ownAccount(s) };
}

async function guardiansShow(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS }, allowPositionals: true, strict: true });
  const { chain, account } = await accountOrOwn(positionals[0], values);
  const state = await readRecoveryState(chain.client, chain.registry, account);
  if (!state.controller) throw new ConsentryError('NOT_REGISTERED', `${account} is not a registered Consentry account`);
  printGuardians(state);
}

async function guardiansSet(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS, threshold: { type: 'string' }, delay: { type: 'string' } }, allowPositionals: true, strict: true });
  const list = positionals.join(',').split(',').map((a) => a.trim()).filter(Boolean);
  if (list.length < 2 || list.length > 10) throw new UsageError(`Name 2 to 10 guardians, comma-separated (given ${list.length})`);
  const guardians = list.map((a, i) => addressArg(a, `Guardian ${i + 1}`));
  const threshold = Number(values.threshold);
  if (values.threshold === undefined || !Number.isInteger(threshold) || threshold < 2 || threshold > guardians.length) {
    throw new UsageError(`--threshold must be a whole number from 2 to the number of guardians (${guardians.length})`);
  }
  const recoveryDelaySeconds = parseDelay(values.delay);
  const s = await openSigner(values);
  const account = await ownAccount(s);
  const sent = await setGuardians(s.ctx, { guardians, threshold, recoveryDelaySeconds });
  const state = await readRecoveryState(s.client, s.registry, account);
  console.log(`guardians set: tx ${sent.hash}`);
  printGuardians(state);
  if (sent.events.some((e) => e.eventName === 'GuardiansChanged')) {
    console.log('next: back your key up to them (`consentry backup guardians`) or on paper (`consentry backup paper`)');
  }
}

async function guardiansApply(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS }, allowPositionals: true, strict: true });
  const s = await openSigner(values);
  const account = positionals[0] !== undefined ? addressArg(positionals[0], 'The account') : await ownAccount(s);
  const sent = await applyGuardianChange(s.ctx, account);
  console.log(`guardians applied: tx ${sent.hash}`);
  printGuardians(await readRecoveryState(s.client, s.registry, account));
}

async function guardiansCancel(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS }, strict: true });
  const s = await openSigner(values);
  const account = await ownAccount(s);
  const sent = await cancelGuardianChange(s.ctx);
  console.log(`pending guardian change withdrawn: tx ${sent.hash}`);
  printGuardians(await readRecoveryState(s.client, s.registry, account));
}

// ------------------------------------------------------------------------------------- recovery

const RECOVERY_SUBCOMMANDS =
  '`recovery status <account>`, `recovery start <account> --new-wallet <address> --recovery-key <hex>`, `recovery approve <account>`, `recovery complete <account>`, `recovery cancel`, `recovery release <account>` or `recovery key`';

export async function runRecovery(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'status') return recoveryStatus(rest);
  if (sub === 'start') return recoveryStart(rest);
  if (sub === 'approve') return recoveryApprove(rest);
  if (sub === 'complete') return recoveryComplete(rest);
  if (sub === 'cancel') return recoveryCancel(rest);
  if (sub === 'release') return recoveryRelease(rest);
  if (sub === 'key') return recoveryKey(rest);
  throw new UsageError(sub ? `Unknown recovery command "${sub}": ${RECOVERY_SUBCOMMANDS}` : `Say what to do: ${RECOVERY_SUBCOMMANDS}`);
}

function printRecovery(state: RecoveryState): void {
  const a = state.active;
  if (!a) console.log(`recovery: none under way for ${state.account}`);
  else {
    const ready =
      a.readyAt === 0n
        ? `waiting for ${state.threshold - a.approvalCount} more guardian approval(s)`
        : a.readyAt <= state.now
          ? 'ready: anyone may complete it now (`consentry recovery complete`)'
          : `may be completed from ${when(a.readyAt)}; until then the current wallet can cancel it`;
    console.log(`recovery #${a.nonce}: to ${a.newController} (recovery key ${a.recoveryKey}), started ${when(a.startedAt)}`);
    console.log(`approvals: ${a.approvalCount} of ${state.threshold} (${a.approvedBy.join(', ')}); ${ready}`);
  }
  const c = state.completed;
  if (c) console.log(`last completed: recovery #${c.nonce} on ${when(c.completedAt)}, from ${c.previousController} to ${c.newController}`);
}

async function recoveryStatus(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  const account = addressArg(positionals[0], 'The account');
  const chain = await openChain();
  const state = await readRecoveryState(chain.client, chain.registry, account);
  if (!state.controller) throw new ConsentryError('NOT_REGISTERED', `${account} is not a registered Consentry account`);
  console.log(`account ${account}: controlled by ${state.controller}; encryption key ${state.encryptionKey}`);
  printGuardians(state);
  printRecovery(state);
  const vault = await openVault(chain.config);
  try {
    const backup = await vault.keyBackup(account);
    console.log(
      backup
        ? `key backup: ${backup.threshold} of ${backup.shares.length} guardians, made ${when(BigInt(backup.createdAt))}${backup.publicKey.toLowerCase() === state.encryptionKey?.toLowerCase() ? '' : ' (of an older key: back up again)'}`
        : 'key backup: none with the guardians',
    );
    if (state.completed) {
      const released = await vault.releasedShares(account, Number(state.completed.nonce));
      console.log(`released shares for recovery #${state.completed.nonce}: ${released.length}${released.length ? ` (${released.map((r) => getAddress(r.guardian)).join(', ')})` : ''}`);
    }
  } finally {
    await vault.close();
  }
}

async function recoveryStart(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS, 'new-wallet': { type: 'string' }, 'recovery-key': { type: 'string' } }, allowPositionals: true, strict: true });
  const account = addressArg(positionals[0], 'The account');
  const newController = addressArg(values['new-wallet'], '--new-wallet');
  const key = values['recovery-key'];
  if (key === undefined || !/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError('--recovery-key must be the new wallet\'s encryption public key: 0x and 64 hex digits (the web app shows it on the new wallet\'s /recovery page)');
  const s = await openSigner(values);
  const started = await startRecovery(s.ctx, { account, newController, recoveryKey: key.toLowerCase() as Hex });
  console.log(`recovery #${started.nonce} of ${account} started by ${s.wallet} (your approval counts): tx ${started.hash}`);
  printRecovery(await readRecoveryState(s.client, s.registry, account));
}

async function recoveryApprove(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS }, allowPositionals: true, strict: true });
  const account = addressArg(positionals[0], 'The account');
  const s = await openSigner(values);
  const state = await readRecoveryState(s.client, s.registry, account);
  if (!state.active) throw new ConsentryError('NO_ACTIVE_RECOVERY', `No recovery of ${account} is under way: a guardian starts one with \`consentry recovery start\``);
  // The approval names the recovery the guardian saw: printed first, so it can be checked against what the patient asked for.
  console.log(`approving recovery #${state.active.nonce} of ${account} to ${state.active.newController}`);
  const sent = await approveRecovery(s.ctx, { account, nonce: state.active.nonce });
  console.log(`approved: tx ${sent.hash}`);
  printRecovery(await readRecoveryState(s.client, s.registry, account));
}

async function recoveryComplete(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS }, allowPositionals: true, strict: true });
  const account = addressArg(positionals[0], 'The account');
  const s = await openSigner(values);
  const sent = await completeRecovery(s.ctx, account);
  const state = await readRecoveryState(s.client, s.registry, account);
  console.log(`recovery completed: ${account} is now controlled by ${state.controller} (tx ${sent.hash})`);
  console.log('next: each guardian runs `consentry recovery release <account>`; then the new wallet restores its key and rotates (`consentry keys rotate`, or the web app\'s /recovery page)');
}

async function recoveryCancel(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS }, strict: true });
  const s = await openSigner(values);
  const account = await ownAccount(s);
  const sent = await cancelRecovery(s.ctx);
  console.log(`recovery of ${account} cancelled: its approvals are void (tx ${sent.hash})`);
}

async function recoveryRelease(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS }, allowPositionals: true, strict: true });
  const account = addressArg(positionals[0], 'The account');
  const s = await openSigner(values);
  const state = await readRecoveryState(s.client, s.registry, account);
  const done = state.completed;
  if (!done) throw new ConsentryError('RECOVERY_NOT_COMPLETED', `No recovery of ${account} has completed on chain: a guardian releases its share only after that`);
  if (!state.guardians.some((g) => g === s.wallet)) throw new ConsentryError('NOT_GUARDIAN', `${s.wallet} is not a guardian of ${account}`);
  const vault = await openVault(s.config);
  try {
    const backup = await keyBackupOf(vault, account).catch(() => null);
    const mine = backup?.shares.find((sh) => sh.guardian === s.wallet);
    if (!mine) throw new ConsentryError('NO_BACKUP_SHARE', `The vault holds no backup share of ${account} for ${s.wallet}: the patient made no key backup to this guardian`);
    const keys = await s.keys();
    let released: Uint8Array;
    try {
      released = releaseBackupShare({ sealedShare: fromBase64(mine.sealedShare), guardianSecretKey: keys.secretKey, recovery: { account, nonce: done.nonce, newController: done.newController, recoveryKey: done.recoveryKey } });
    } finally {
      keys.secretKey.fill(0);
    }
    const stores: RecoveryStores = { vault, chain: { client: s.client, registry: s.registry } };
    const { stored } = await storeReleasedShare(stores, s.wallet, { account, nonce: Number(done.nonce), releasedShare: toBase64(released) });
    console.log(
      stored
        ? `released: your share of ${account}'s key, sealed to recovery #${done.nonce}'s key (new wallet ${done.newController}); only that wallet can open it`
        : `already released: your share for recovery #${done.nonce} was stored before`,
    );
  } finally {
    await vault.close();
  }
}

/** The new wallet's side: its address and recovery key (its own derived key), for the guardians. */
async function recoveryKey(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS }, strict: true });
  const s = await openSigner(values);
  const keys = await s.keys();
  keys.secretKey.fill(0);
  console.log(`new wallet: ${s.wallet}`);
  console.log(`recovery key: ${keys.publicKeyHex}`);
  console.error(`Give both to your guardians; the first runs: consentry recovery start <your account> --new-wallet ${s.wallet} --recovery-key ${keys.publicKeyHex}`);
}

// ------------------------------------------------------------------------------------- rotation

const KEYS_SUBCOMMANDS = '`keys rotate [--paper-file <file>]`';

export async function runKeys(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'rotate') return keysRotate(rest);
  throw new UsageError(sub ? `Unknown keys command "${sub}": ${KEYS_SUBCOMMANDS}` : `Say what to do: ${KEYS_SUBCOMMANDS}`);
}

/**
 * After a recovery, the new wallet takes the account's records to its own key (decision 031): the old
 * secret, from the guardians' released shares (or the paper words), goes into the keyring sealed to the
 * new key; the chain takes the new key; every version's data key is re-sealed to it, in batches with
 * progress. Run again after any stop: what is done is skipped (a chain key already rotated, versions
 * that already open with the new key).
 */
async function keysRotate(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS, 'paper-file': { type: 'string' } }, strict: true });
  const s = await openSigner(values);
  const account = await ownAccount(s);
  const state = await readRecoveryState(s.client, s.registry, account);
  const keys = await s.keys();
  const vault = await openVault(s.config);
  const stores: RecoveryStores = { vault, chain: { client: s.client, registry: s.registry } };
  try {
    const keyring = await vault.keyring(account);
    const earlier = openKeyring(keyring.map((e) => ({ ...e, publicKey: e.publicKey as Hex })), keys.secretKey).secrets;
    const onChain = state.encryptionKey?.toLowerCase();
    let oldSecret: Uint8Array | null = null;
    if (onChain !== keys.publicKeyHex.toLowerCase()) {
      oldSecret = earlier.get(onChain ?? '') ?? null;
      if (!oldSecret && values['paper-file'] !== undefined) {
        let words: string;
        try {
          words = readFileSync(values['paper-file'], 'utf8');
        } catch {
          throw new UsageError(`Cannot read the paper words in ${values['paper-file']}`);
        }
        oldSecret = secretFromPaperPhrase(words, state.encryptionKey as Hex);
      }
      if (!oldSecret) {
        const done = state.completed;
        if (!done || getAddress(done.newController) !== s.wallet) {
          throw new ConsentryError('NOTHING_TO_RESTORE_FROM', `No recovery of ${account} to ${s.wallet} has completed, and no --paper-file was given: there is no way to the account's current key`);
        }
        const released = await vault.releasedShares(account, Number(done.nonce));
        oldSecret = await recoverSecretFromReleased({
          released: released.map((r) => fromBase64(r.releasedShare)),
          recoverySecretKey: keys.secretKey,
          recovery: { account, nonce: done.nonce, newController: done.newController, recoveryKey: done.recoveryKey },
          expectedPublicKey: state.encryptionKey as Hex,
        });
      }
      console.log(`restored: the account's key ${state.encryptionKey}`);
      await storeKeyringEntry(stores, { account, wallet: s.wallet }, keyringEntry(oldSecret, keys.publicKey));
      const { hash } = await rotateEncryptionKey(s.ctx, keys.publicKeyHex);
      console.log(`rotated on chain: the account's key is now ${keys.publicKeyHex} (transaction ${hash}); new records are sealed to it only`);
    }
    // An erased version has no sealed key left (crypto-shredded): nothing to re-seal.
    const rows = await vault.versions(account);
    const versions = rows.flatMap((v) => (v.sealedKey ? [{ recordId: v.recordId, version: v.version, sealedKey: v.sealedKey }] : []));
    const result = await resealVersions({
      versions,
      oldSecretKeys: [...(oldSecret ? [oldSecret] : []), ...earlier.values()],
      newKeyPair: keys,
      save: async (batch) => void (await vault.replaceSealedKeys(account, batch)),
      onProgress: (p) => console.error(`re-sealing: ${p.done} of ${p.total}`),
    });
    console.log(`re-sealed ${result.resealed} version(s) to the new key; ${result.alreadyRotated} already were${rows.length > versions.length ? `; ${rows.length - versions.length} erased` : ''}${result.unopenable.length ? `; ${result.unopenable.length} that no key here opens, left as they are` : ''}`);
    console.error('Your key changed: back it up again (consentry backup guardians, or backup paper).');
  } finally {
    keys.secretKey.fill(0);
    await vault.close();
  }
}

// --------------------------------------------------------------------------------------- backup

const BACKUP_SUBCOMMANDS = '`backup guardians` (split your key to your guardians) or `backup paper` (print it as 24 words)';

export async function runBackup(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'paper') return backupPaper(rest);
  if (sub === 'guardians') return backupGuardians(rest);
  throw new UsageError(sub ? `Unknown backup command "${sub}": ${BACKUP_SUBCOMMANDS}` : `Say which backup: ${BACKUP_SUBCOMMANDS}`);
}

/** The signer's derived key pair, refused unless it is its account's encryption key on chain. */
async function accountKeys(s: Signer): Promise<{ account: Address; keys: EncryptionKeyPair; state: RecoveryState }> {
  const account = await ownAccount(s);
  const state = await readRecoveryState(s.client, s.registry, account);
  const keys = await s.keys();
  if (keys.publicKeyHex.toLowerCase() !== state.encryptionKey?.toLowerCase()) {
    keys.secretKey.fill(0);
    throw new ConsentryError(
      'KEY_NOT_CURRENT',
      `This wallet's derived key is not the encryption key of ${account} on chain: after a recovery, restore the old key and rotate to this one first (the web app's /recovery page)`,
    );
  }
  return { account, keys, state };
}

async function backupPaper(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS }, strict: true });
  const s = await openSigner(values);
  const { account, keys } = await accountKeys(s);
  try {
    const words = paperPhraseOf(keys.secretKey).split(' ');
    // The phrase goes to stdout only (to print or write down); what it is goes to stderr.
    console.error(`paper backup of ${account}'s encryption key (${keys.publicKeyHex}): 24 words. Anyone who reads them can open your records: keep them offline, never in a photo or a file.`);
    for (let i = 0; i < words.length; i += 6) console.log(words.slice(i, i + 6).map((w, j) => `${String(i + j + 1).padStart(2)}. ${w}`).join('  '));
  } finally {
    keys.secretKey.fill(0);
  }
}

async function backupGuardians(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS }, strict: true });
  const s = await openSigner(values);
  const { account, keys, state } = await accountKeys(s);
  const vault = await openVault(s.config);
  try {
    if (state.guardians.length === 0) throw new ConsentryError('NO_GUARDIANS', 'Name your guardians first: `consentry guardians set <address,...> --threshold <t>`');
    const guardianKeys = await Promise.all(
      state.guardians.map(async (g) => {
        const registered = await s.client.readContract({ address: s.registry, abi: patientRegistryAbi, functionName: 'isRegistered', args: [g] });
        if (!registered) throw new ConsentryError('GUARDIAN_NOT_REGISTERED', `Guardian ${g} has no Consentry key on chain, so no share can be sealed to it: ask them to register`);
        return { address: g, publicKey: await s.client.readContract({ address: s.registry, abi: patientRegistryAbi, functionName: 'encryptionKeyOf', args: [g] }) };
      }),
    );
    const backup = await splitKeyBackup({ secretKey: keys.secretKey, account, guardians: guardianKeys, threshold: state.threshold });
    await storeKeyBackup({ vault, chain: { client: s.client, registry: s.registry } }, { account, wallet: s.wallet }, {
      backupId: backup.backupId,
      threshold: state.threshold,
      publicKey: backup.publicKey,
      shares: backup.shares.map((sh) => ({ guardian: sh.guardian, sealedShare: toBase64(sh.sealedShare) })),
    });
    console.log(`backup: your key is split ${state.threshold} of ${state.guardians.length}, one share sealed to each guardian (${state.guardians.join(', ')}); it replaces any earlier backup`);
  } finally {
    keys.secretKey.fill(0);
    await vault.close();
  }
}
