/**
 * What the record commands share: the patient's key (CONSENTRY_PRIVATE_KEY, --key-file, or on the
 * local chain --dev-account N), the encryption key derived from it exactly as the web app derives
 * it (an EIP-712 signature through HKDF), the vault and the blob store from the configuration.
 */
import { readFileSync } from 'node:fs';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { loadConfig, type Config } from '@consentry/sdk/config';
import { resolvePatientAccount } from '@consentry/sdk/recovery/account';
import { openKeyring } from '@consentry/sdk/recovery/keyring';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { RecordsService } from '../records/service.ts';
import { Vault, vaultOptionsFor } from '../records/vault.ts';
import { UsageError } from './command.ts';

/** The options every command that needs the patient's key accepts. */
export const KEY_OPTIONS = {
  'key-file': { type: 'string' },
  'dev-account': { type: 'string' },
} as const;

const HEX_KEY = /^(0x)?[0-9a-fA-F]{64}$/;

export function privateKeyFrom(values: { 'key-file'?: string; 'dev-account'?: string }, config: Config): Hex {
  const given = [values['key-file'] !== undefined, values['dev-account'] !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('Give --key-file or --dev-account, not both');
  if (values['dev-account'] !== undefined) {
    const i = Number(values['dev-account']);
    if (config.CHAIN_ID !== 31337) throw new UsageError(`--dev-account is only for the local chain (CHAIN_ID 31337, not ${config.CHAIN_ID})`);
    if (!Number.isInteger(i) || !ANVIL_ACCOUNTS[i]) throw new UsageError(`--dev-account must be 0 to ${ANVIL_ACCOUNTS.length - 1}`);
    return ANVIL_ACCOUNTS[i]!.privateKey;
  }
  let text: string | undefined;
  let from = 'CONSENTRY_PRIVATE_KEY';
  if (values['key-file'] !== undefined) {
    from = values['key-file'];
    try {
      text = readFileSync(values['key-file'], 'utf8').trim();
    } catch {
      throw new UsageError(`Cannot read the key file ${values['key-file']}`);
    }
  } else text = process.env.CONSENTRY_PRIVATE_KEY?.trim();
  if (!text) throw new UsageError('No key: set CONSENTRY_PRIVATE_KEY, or pass --key-file <file> (or --dev-account N on the local chain)');
  if (!HEX_KEY.test(text)) throw new UsageError(`${from} does not hold a private key (32 bytes as 64 hex characters)`);
  return (text.startsWith('0x') ? text : `0x${text}`) as Hex;
}

export interface PatientContext {
  config: Config;
  privateKey: Hex;
  patient: Address;
  keys: EncryptionKeyPair;
  vault: Vault;
  blobs: BlobStore;
  records: RecordsService;
  close(): Promise<void>;
}

export async function openVault(config: Config): Promise<Vault> {
  return Vault.open(vaultOptionsFor(config));
}

export async function patientContext(values: { 'key-file'?: string; 'dev-account'?: string }): Promise<PatientContext> {
  const config = loadConfig();
  const privateKey = privateKeyFrom(values, config);
  const account = privateKeyToAccount(privateKey);
  const keys = deriveEncryptionKeyPair(await account.signTypedData(keyDerivationTypedData(config.CHAIN_ID)));
  const patient = await patientAccountFor(config, account.address);
  const [vault, blobs] = await Promise.all([openVault(config), blobStoreFromEnv({ ...process.env, DATA_DIR: config.DATA_DIR })]);
  // After a rotation, content tags and notes derive from the account's first key, kept in its keyring.
  const keyring = await vault.keyring(patient);
  const rootSecretKey = keyring.length ? openKeyring(keyring.map((e) => ({ ...e, publicKey: e.publicKey as Hex })), keys.secretKey).root : undefined;
  const records = new RecordsService({ vault, blobs, patient, keys, ...(rootSecretKey ? { rootSecretKey } : {}) });
  return {
    config,
    privateKey,
    patient,
    keys,
    vault,
    blobs,
    records,
    async close() {
      keys.secretKey.fill(0);
      await vault.close();
    },
  };
}

/**
 * The patient account `wallet` acts for (decision 031): the account it controls on chain (another
 * address after a recovery moved that account to this wallet), or the wallet itself when it controls
 * none. Without a deployment (records kept before any chain) the wallet is its own account. A wallet
 * whose account was recovered away is refused, as the web app refuses its sign-in.
 */
export async function patientAccountFor(config: Config, wallet: Address): Promise<Address> {
  const { account, movedTo } = await resolvePatientAccount(config, wallet);
  if (movedTo) throw new UsageError(`This wallet's account was recovered to another wallet (${movedTo}); use that wallet`);
  return account;
}

/** A record named by its id or an unambiguous prefix of it (at least 8 hex digits after 0x). */
export async function resolveRecordId(ctx: PatientContext, given: string | undefined): Promise<string> {
  if (!given) throw new UsageError('Name a record: its id (or a prefix of at least 10 characters) from `consentry records list`');
  const wanted = given.toLowerCase();
  if (/^0x[0-9a-f]{64}$/.test(wanted)) return wanted;
  if (!/^0x[0-9a-f]{8,63}$/.test(wanted)) throw new UsageError(`"${given}" is not a record id (0x and hex digits)`);
  const matches = (await ctx.records.list()).filter((r) => r.recordId.startsWith(wanted));
  if (matches.length === 1) return matches[0]!.recordId;
  throw new UsageError(matches.length === 0 ? `No record starts with ${given}` : `${matches.length} records start with ${given}; give more digits`);
}
