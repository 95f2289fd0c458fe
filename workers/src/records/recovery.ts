/**
 * What the server keeps for key loss and recovery (docs/decisions/031), checked against the chain
 * before anything is stored. Only ciphertext arrives: a guardian's backup share opens with that
 * guardian's key only, a released share with the recovery key only, a keyring entry and a re-sealed
 * data key with the account's own key only. The checks make sure what is stored says the truth about
 * itself (its clear header) and comes from the wallet entitled to send it:
 *
 *   - a key backup comes from the account's controller, for the guardians, threshold and encryption
 *     key the chain shows now, one share per guardian, each sealed to that guardian's registered key;
 *     it replaces the previous backup, but never while a recovery of the account is under way;
 *   - a released share comes from a guardian of the account, for the recovery the chain shows as the
 *     last completed one, re-sealed to that recovery's key and naming its new controller;
 *   - re-sealed data keys (a key rotation) and keyring entries come from the account's controller,
 *     for the account's own versions, each a 105-byte sealed key.
 *
 * The web API (web/app/lib/recovery.server.ts) and the CLI (workers/src/cli/recovery.ts) both call these.
 */
import { getAddress, isAddress, type Address, type Hex, type PublicClient } from 'viem';
import { z } from 'zod';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { ConsentryError } from '@consentry/sdk/errors';
import { fromBase64 } from '@consentry/sdk/records/versions';
import { readRecoveryState, type RecoveryState } from '@consentry/sdk/recovery/actions';
import { readBackupShareHeader, readReleasedShareHeader } from '@consentry/sdk/recovery/backup';
import type { Vault } from './vault.ts';

/** A sealed key (sdk sealKey of 32 bytes): what a version's data key and a keyring secret are. */
const SEALED_KEY_BYTES = 105;
/** At most this many re-sealed data keys per request (the client sends batches). */
export const MAX_SEALED_KEY_UPDATES = 500;
/** At most this many earlier keys an account keeps (one per rotation). */
export const MAX_KEYRING_ENTRIES = 64;
/** The contract's bound on guardians. */
const MAX_GUARDIANS = 10;

/** A recovery upload or read refused, with the HTTP status that says why. */
export class RecoveryStoreError extends ConsentryError {
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.name = 'RecoveryStoreError';
    this.status = status;
  }
}

export interface RecoveryChain {
  client: PublicClient;
  /** The PatientRegistry's address. */
  registry: Address;
}

export interface RecoveryStores {
  vault: Vault;
  chain: RecoveryChain;
  now?: () => number;
}

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address (0x and 40 hex digits)');
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, '32 bytes as 0x and 64 hex digits');
const base64 = (min: number, max: number) => z.string().min(min).max(max).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');

function parse<T>(schema: z.ZodType<T>, body: unknown, code: string, what: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0]!;
  throw new RecoveryStoreError(400, code, `${what} is malformed at ${first.path.join('.') || 'the top level'}: ${first.message}`);
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The account's recovery state on chain; refuses an account that is not registered. */
async function registeredState(chain: RecoveryChain, account: Address): Promise<RecoveryState & { controller: Address; encryptionKey: Hex }> {
  const state = await readRecoveryState(chain.client, chain.registry, account);
  if (!state.controller || !state.encryptionKey) throw new RecoveryStoreError(404, 'NOT_REGISTERED', `${account} is not a registered Consentry account`);
  return state as RecoveryState & { controller: Address; encryptionKey: Hex };
}

/**
 * Refuses a wallet that does not control the account now. A session is signed for 12 hours; a
 * recovery completed meanwhile moves the account away from the wallet that signed it.
 */
export async function assertController(chain: RecoveryChain, account: Address, wallet: Address): Promise<void> {
  const controller = await chain.client.readContract({ address: chain.registry, abi: patientRegistryAbi, functionName: 'controllerOf', args: [account] });
  if (same(controller, wallet)) return;
  if (/^0x0{40}$/.test(controller)) throw new RecoveryStoreError(403, 'NOT_REGISTERED', `${account} is not a registered Consentry account: register as a patient first`);
  throw new RecoveryStoreError(403, 'NOT_CONTROLLER', `This wallet (${wallet}) no longer controls account ${account}: a recovery moved it to ${controller}. Sign in with that wallet`);
}

const backupSchema = z.object({
  backupId: z.string().regex(/^0x[0-9a-fA-F]{32}$/, '16 bytes as 0x and 32 hex digits'),
  threshold: z.number().int().min(2).max(MAX_GUARDIANS),
  publicKey: hex32,
  shares: z.array(z.object({ guardian: address, sealedShare: base64(300, 600) })).min(2).max(MAX_GUARDIANS),
});
export type KeyBackupUpload = z.infer<typeof backupSchema>;

/**
 * Stores the controller's key backup for `account`, replacing the previous one, after checking it
 * against the chain: the same guardians and threshold as guardiansOf, the account's encryption key,
 * and every share's header naming this account, its guardian (sealed to the guardian's key on chain),
 * this backup and its shape.
 */
export async function storeKeyBackup(stores: RecoveryStores, who: { account: Address; wallet: Address }, body: unknown): Promise<{ stored: true; backupId: string }> {
  const upload = parse(backupSchema, body, 'BAD_BACKUP', 'The key backup');
  const { chain, vault } = stores;
  await assertController(chain, who.account, who.wallet);
  const state = await registeredState(chain, who.account);
  if (state.active) {
    throw new RecoveryStoreError(409, 'RECOVERY_ACTIVE', `Recovery #${state.active.nonce} of this account is under way: the backup cannot change until it is cancelled or completed`);
  }
  if (state.guardians.length === 0) throw new RecoveryStoreError(409, 'NO_GUARDIANS', 'Name your guardians on chain first: a backup is split to the guardians in force');
  const onChain = new Set(state.guardians.map((g) => g.toLowerCase()));
  const sent = upload.shares.map((s) => s.guardian.toLowerCase());
  const stranger = sent.find((g) => !onChain.has(g));
  if (stranger) throw new RecoveryStoreError(409, 'GUARDIANS_MISMATCH', `${getAddress(stranger)} is not one of your guardians on chain (${state.guardians.join(', ')})`);
  if (new Set(sent).size !== sent.length) throw new RecoveryStoreError(400, 'DUPLICATE_SHARE', 'The backup has two shares for the same guardian');
  const missing = state.guardians.filter((g) => !sent.includes(g.toLowerCase()));
  if (missing.length) throw new RecoveryStoreError(409, 'GUARDIANS_MISMATCH', `The backup has no share for ${missing.join(', ')}: every guardian on chain needs one`);
  if (upload.threshold !== state.threshold) {
    throw new RecoveryStoreError(409, 'THRESHOLD_MISMATCH', `The backup is split ${upload.threshold} of ${sent.length}, but your guardians on chain recover with ${state.threshold} of ${state.guardians.length}`);
  }
  if (!same(upload.publicKey, state.encryptionKey)) {
    throw new RecoveryStoreError(409, 'KEY_MISMATCH', "The backup is of another key than your account's encryption key on chain: derive your key again and back it up");
  }
  const guardianKeys = await Promise.all(
    state.guardians.map(async (g) => {
      const registered = await chain.client.readContract({ address: chain.registry, abi: patientRegistryAbi, functionName: 'isRegistered', args: [g] });
      return registered ? chain.client.readContract({ address: chain.registry, abi: patientRegistryAbi, functionName: 'encryptionKeyOf', args: [g] }) : null;
    }),
  );
  const keyOf = new Map(state.guardians.map((g, i) => [g.toLowerCase(), guardianKeys[i]]));
  const xs = new Set<number>();
  for (const [i, s] of upload.shares.entries()) {
    const where = `shares.${i} (guardian ${getAddress(s.guardian)})`;
    let header: ReturnType<typeof readBackupShareHeader>;
    try {
      header = readBackupShareHeader(fromBase64(s.sealedShare));
    } catch (err) {
      throw new RecoveryStoreError(400, 'BAD_SHARE', `${where}: ${err instanceof Error ? err.message : 'not a backup share'}`);
    }
    if (!same(header.account, who.account) || !same(header.guardian, s.guardian) || !same(header.backupId, upload.backupId)) {
      throw new RecoveryStoreError(400, 'SHARE_MISMATCH', `${where}: the share's header names another account, guardian or backup`);
    }
    if (header.threshold !== upload.threshold || header.count !== upload.shares.length || !same(header.accountPublicKey, upload.publicKey)) {
      throw new RecoveryStoreError(400, 'SHARE_MISMATCH', `${where}: the share was split for another threshold, number of guardians or key`);
    }
    if (header.x === 0 || xs.has(header.x)) throw new RecoveryStoreError(400, 'SHARE_MISMATCH', `${where}: the share repeats another share's point`);
    xs.add(header.x);
    const guardianKey = keyOf.get(s.guardian.toLowerCase());
    if (!guardianKey) throw new RecoveryStoreError(409, 'GUARDIAN_NOT_REGISTERED', `${where}: the guardian has no Consentry key on chain, so no share can be sealed to it; ask them to register`);
    if (!same(header.guardianPublicKey, guardianKey)) {
      throw new RecoveryStoreError(409, 'GUARDIAN_KEY_MISMATCH', `${where}: the share is sealed to another key than the guardian's key on chain (it changed): back up again`);
    }
  }
  await vault.replaceKeyBackup(
    { account: who.account.toLowerCase(), backupId: upload.backupId.toLowerCase(), threshold: upload.threshold, publicKey: upload.publicKey.toLowerCase(), createdAt: Math.floor((stores.now?.() ?? Date.now()) / 1000) },
    upload.shares.map((s) => ({ account: who.account.toLowerCase(), guardian: s.guardian.toLowerCase(), sealedShare: s.sealedShare })),
  );
  return { stored: true, backupId: upload.backupId.toLowerCase() };
}

export function accountParam(value: string | null | undefined, name = 'account'): Address {
  if (!value || !isAddress(value, { strict: false })) throw new RecoveryStoreError(400, 'BAD_ACCOUNT', `Give the ${name} as an address: ?${name}=0x… (40 hex digits)`);
  return getAddress(value);
}

export interface KeyBackupView {
  account: Address;
  backupId: string;
  threshold: number;
  publicKey: string;
  /** Unix seconds. */
  createdAt: number;
  shares: Array<{ guardian: Address; sealedShare: string }>;
}

/** An account's key backup (ciphertext: each share opens only with its guardian's key). */
export async function keyBackupOf(vault: Vault, account: Address): Promise<KeyBackupView> {
  const backup = await vault.keyBackup(account);
  if (!backup) throw new RecoveryStoreError(404, 'NO_BACKUP', `Account ${account} has no key backup with its guardians`);
  return {
    account: getAddress(backup.account),
    backupId: backup.backupId,
    threshold: backup.threshold,
    publicKey: backup.publicKey,
    createdAt: backup.createdAt,
    shares: backup.shares.map((s) => ({ guardian: getAddress(s.guardian), sealedShare: s.sealedShare })),
  };
}

const nonceSchema = z.union([z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[1-9]\d{0,15}$/).transform(Number)]);
const releasedSchema = z.object({ account: address, nonce: nonceSchema, releasedShare: base64(300, 400) });
export type ReleasedShareUpload = z.input<typeof releasedSchema>;

/**
 * Stores a guardian's released share for a completed recovery. Refused unless the chain's last
 * completed recovery of the account is this one and the wallet is one of its guardians; the share's
 * header must name that recovery (nonce, new controller, recovery key), the account and the guardian.
 */
export async function storeReleasedShare(stores: RecoveryStores, guardian: Address, body: unknown): Promise<{ stored: boolean }> {
  const upload = parse(releasedSchema, body, 'BAD_RELEASE', 'The released share');
  const account = getAddress(upload.account);
  const state = await registeredState(stores.chain, account);
  const done = state.completed;
  if (!done || done.nonce !== BigInt(upload.nonce)) {
    throw new RecoveryStoreError(
      409,
      'RECOVERY_NOT_COMPLETED',
      done
        ? `Recovery #${upload.nonce} of ${account} is not the last completed one (#${done.nonce}): a share is released only for that one`
        : `No recovery of ${account} has completed on chain: a guardian releases its share only after the recovery completes`,
    );
  }
  if (!state.guardians.some((g) => same(g, guardian))) throw new RecoveryStoreError(403, 'NOT_GUARDIAN', `This wallet (${guardian}) is not a guardian of ${account}`);
  let header: ReturnType<typeof readReleasedShareHeader>;
  try {
    header = readReleasedShareHeader(fromBase64(upload.releasedShare));
  } catch (err) {
    throw new RecoveryStoreError(400, 'BAD_SHARE', err instanceof Error ? err.message : 'not a released share');
  }
  if (!same(header.account, account) || header.nonce !== done.nonce || !same(header.guardian, guardian)) {
    throw new RecoveryStoreError(400, 'SHARE_MISMATCH', "The released share's header names another account, recovery or guardian");
  }
  if (!same(header.newController, done.newController) || !same(header.recoveryKey, done.recoveryKey)) {
    throw new RecoveryStoreError(400, 'SHARE_MISMATCH', 'The released share is sealed for another new wallet or recovery key than the recovery the chain completed');
  }
  const stored = await stores.vault.insertReleasedShare({
    account: account.toLowerCase(),
    nonce: upload.nonce,
    guardian: guardian.toLowerCase(),
    releasedShare: upload.releasedShare,
    createdAt: Math.floor((stores.now?.() ?? Date.now()) / 1000),
  });
  return { stored };
}

/** The shares guardians released for one recovery (ciphertext: they open only with the recovery key). */
export async function releasedSharesOf(vault: Vault, account: Address, nonce: string | null): Promise<{ shares: Array<{ guardian: Address; releasedShare: string }> }> {
  if (!nonce || !/^[1-9]\d{0,15}$/.test(nonce)) throw new RecoveryStoreError(400, 'BAD_NONCE', 'Give the recovery as a whole number from 1: ?nonce=N');
  const rows = await vault.releasedShares(account, Number(nonce));
  return { shares: rows.map((r) => ({ guardian: getAddress(r.guardian), releasedShare: r.releasedShare })) };
}

const sealedKey = base64(140, 140).refine((s) => fromBase64(s).length === SEALED_KEY_BYTES, `a sealed key is ${SEALED_KEY_BYTES} bytes`);
const sealedKeysSchema = z.object({
  updates: z
    .array(z.object({ recordId: z.string().regex(/^0x[0-9a-f]{64}$/, 'a 32-byte lowercase hex id'), version: z.number().int().min(1).max(0x7fffffff), sealedKey }))
    .min(1)
    .max(MAX_SEALED_KEY_UPDATES, `at most ${MAX_SEALED_KEY_UPDATES} versions per request: send batches`),
});

/**
 * Replaces the sealed data keys of the controller's own versions (a key rotation), all or none: every
 * version must exist among the account's records and not be erased.
 */
export async function storeSealedKeys(stores: RecoveryStores, who: { account: Address; wallet: Address }, body: unknown): Promise<{ updated: number }> {
  const { updates } = parse(sealedKeysSchema, body, 'BAD_SEALED_KEYS', 'The re-sealed keys');
  await assertController(stores.chain, who.account, who.wallet);
  const seen = new Set<string>();
  for (const u of updates) {
    const id = `${u.recordId}:${u.version}`;
    if (seen.has(id)) throw new RecoveryStoreError(400, 'BAD_SEALED_KEYS', `Record ${u.recordId.slice(0, 10)}… version ${u.version} appears twice`);
    seen.add(id);
  }
  const { vault } = stores;
  const [rows, erased] = await Promise.all([vault.versionsOfRecords(who.account, [...new Set(updates.map((u) => u.recordId))]), vault.erasures(who.account)]);
  const own = new Set(rows.map((r) => `${r.recordId}:${r.version}`));
  for (const u of updates) {
    const where = `record ${u.recordId.slice(0, 10)}… version ${u.version}`;
    if (!own.has(`${u.recordId}:${u.version}`)) throw new RecoveryStoreError(404, 'RECORD_NOT_FOUND', `${where}: no such version among your records`);
    if (erased.has(u.recordId)) throw new RecoveryStoreError(409, 'RECORD_ERASED', `${where}: the record was erased; its key stays destroyed`);
  }
  return { updated: await vault.replaceSealedKeys(who.account, updates) };
}

const keyringSchema = z.object({ publicKey: hex32, sealedSecret: sealedKey });

/** Keeps one of the account's earlier secrets, sealed to its current key; the same key sent again replaces the older sealing. */
export async function storeKeyringEntry(stores: RecoveryStores, who: { account: Address; wallet: Address }, body: unknown): Promise<{ stored: true }> {
  const entry = parse(keyringSchema, body, 'BAD_KEYRING', 'The keyring entry');
  await assertController(stores.chain, who.account, who.wallet);
  const existing = await stores.vault.keyring(who.account);
  if (existing.length >= MAX_KEYRING_ENTRIES && !existing.some((e) => same(e.publicKey, entry.publicKey))) {
    throw new RecoveryStoreError(409, 'KEYRING_FULL', `An account keeps at most ${MAX_KEYRING_ENTRIES} earlier keys`);
  }
  await stores.vault.putKeyring([{ account: who.account, publicKey: entry.publicKey.toLowerCase(), sealedSecret: entry.sealedSecret, createdAt: Math.floor((stores.now?.() ?? Date.now()) / 1000) }]);
  return { stored: true };
}

/** The account's earlier secrets, each sealed to its current key, oldest first. */
export async function keyringOf(vault: Vault, account: Address): Promise<{ entries: Array<{ publicKey: string; sealedSecret: string; createdAt: number }> }> {
  return { entries: (await vault.keyring(account)).map((r) => ({ publicKey: r.publicKey, sealedSecret: r.sealedSecret, createdAt: r.createdAt })) };
}
