/**
 * The recovery API behind /recovery (docs/decisions/031): key backups split to the guardians, shares
 * guardians release for a completed recovery, re-sealed data keys of a key rotation, and the keyring
 * of earlier keys. Everything here is ciphertext; what each upload says of itself is checked against
 * the chain by workers/src/records/recovery.ts before it is stored in the vault.
 */
import type { Address, PublicClient } from 'viem';
import { publicClientFor } from '@consentry/sdk/clients';
import { readDeployment } from '@consentry/sdk/deployment';
import {
  accountParam,
  keyBackupOf,
  keyringOf,
  RecoveryStoreError,
  releasedSharesOf,
  storeKeyBackup,
  storeKeyringEntry,
  storeReleasedShare,
  storeSealedKeys,
  type RecoveryStores,
} from '@consentry/workers/src/records/recovery.ts';
import { serverConfig } from './config.server.ts';
import { recordStores } from './records.server.ts';
import { ApiError, type Session } from './session.server.ts';

/** The largest JSON body a recovery route reads: 500 re-sealed keys are ~110 KB. */
export const MAX_RECOVERY_BODY = 256 * 1024;

async function stores(): Promise<RecoveryStores> {
  const { config } = serverConfig();
  const registry = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR).contracts.PatientRegistry.address;
  const { vault } = await recordStores();
  return { vault, chain: { client: publicClientFor(config.RPC_URL, config.CHAIN_ID, { retryCount: 1 }) as PublicClient, registry } };
}

/** Runs `f`, turning a refusal into the API's error shape. */
async function refusals<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof RecoveryStoreError) throw new ApiError(err.status, err.code, err.message);
    throw err;
  }
}

/** A JSON body of at most MAX_RECOVERY_BODY bytes, or a 413 / 400 in words. */
export async function readJsonBody(request: Request, code: string): Promise<unknown> {
  const tooLarge = () => new ApiError(413, 'BODY_TOO_LARGE', `A request here is at most ${MAX_RECOVERY_BODY / 1024} KiB of JSON`);
  if (Number(request.headers.get('content-length') ?? 0) > MAX_RECOVERY_BODY) throw tooLarge();
  const text = await request.text();
  if (text.length > MAX_RECOVERY_BODY) throw tooLarge();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, code, 'The body is not JSON');
  }
}

const who = (s: Session) => ({ account: s.account, wallet: s.wallet });

export const saveKeyBackup = (session: Session, body: unknown) => refusals(async () => storeKeyBackup(await stores(), who(session), body));
export const keyBackup = (url: URL) => refusals(async () => keyBackupOf((await recordStores()).vault, accountParam(url.searchParams.get('account'))));
export const saveReleasedShare = (guardian: Address, body: unknown) => refusals(async () => storeReleasedShare(await stores(), guardian, body));
export const releasedShares = (url: URL) =>
  refusals(async () => releasedSharesOf((await recordStores()).vault, accountParam(url.searchParams.get('account')), url.searchParams.get('nonce')));
export const saveSealedKeys = (session: Session, body: unknown) => refusals(async () => storeSealedKeys(await stores(), who(session), body));
export const saveKeyringEntry = (session: Session, body: unknown) => refusals(async () => storeKeyringEntry(await stores(), who(session), body));
export const keyring = (account: Address) => refusals(async () => keyringOf((await recordStores()).vault, account));
