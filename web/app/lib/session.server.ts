/**
 * Sessions for the records API. A wallet signs the sign-in message (sdk/records/session.ts); the
 * server verifies it, asks the chain which patient account the wallet controls (decision 031: after a
 * recovery, a new wallet acts for an account registered by another address) and sets an HttpOnly
 * cookie `<wallet>.<account>.<expiry>.<HMAC>` under a secret kept in DATA_DIR (created on first use,
 * so sessions survive a restart). The cookie says who is calling and for which account; it never
 * carries or unlocks a key. A wallet signs in again after a recovery moves an account to it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAddress, verifyTypedData, type Address, type Hex, type PublicClient } from 'viem';
import { z } from 'zod';
import { ConsentryError } from '@consentry/sdk/errors';
import { SESSION_SIGNATURE_WINDOW_S, sessionTypedData } from '@consentry/sdk/records/session';
import { resolvePatientAccount } from '@consentry/sdk/recovery/account';
import { serverConfig } from './config.server.ts';

const COOKIE = 'consentry_session';
const SESSION_S = 12 * 3600;

let secret: Buffer | undefined;
function sessionSecret(): Buffer {
  if (secret) return secret;
  const dir = serverConfig().config.DATA_DIR;
  const file = join(dir, 'web-session.key');
  try {
    secret = readFileSync(file);
  } catch {
    mkdirSync(dir, { recursive: true });
    const fresh = randomBytes(32);
    try {
      writeFileSync(file, fresh, { mode: 0o600, flag: 'wx' });
      secret = fresh;
    } catch {
      secret = readFileSync(file); // another process made it first
    }
  }
  return secret;
}

const mac = (payload: string) => createHmac('sha256', sessionSecret()).update(payload).digest('base64url');

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const jsonError = (err: unknown): Response => {
  if (err instanceof ApiError) return Response.json({ error: { code: err.code, message: err.message } }, { status: err.status });
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown })?.code;
  return Response.json({ error: { code: typeof code === 'string' ? code : 'INTERNAL', message } }, { status: typeof code === 'string' ? 400 : 500 });
};

const signInSchema = z.object({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  issuedAt: z.number().int().positive(),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/),
});

/**
 * The account `wallet` acts for, from the chain: the account it controls, or the wallet itself when
 * it controls none (a clinician, a wallet not registered yet). Without a deployment there is no
 * registry and so no recovery: the wallet is its own account. A wallet whose account a recovery moved
 * to another wallet is refused: it must not act as that account any more.
 */
export async function accountForWallet(wallet: Address, client?: PublicClient): Promise<Address> {
  let resolved: Awaited<ReturnType<typeof resolvePatientAccount>>;
  try {
    resolved = await resolvePatientAccount(serverConfig().config, wallet, client);
  } catch (err) {
    if (err instanceof ConsentryError && err.code === 'CHAIN_UNAVAILABLE') {
      throw new ApiError(503, 'CHAIN_UNAVAILABLE', 'The chain cannot be read to find the account this wallet controls; try again in a moment');
    }
    throw err;
  }
  if (resolved.movedTo) {
    throw new ApiError(403, 'ACCOUNT_RECOVERED', `This wallet's account was recovered to another wallet (${resolved.movedTo}); sign in with that one`);
  }
  return getAddress(resolved.account);
}

/** Checks a signed sign-in and returns the Set-Cookie header for its session. */
export async function signIn(body: unknown, now = Date.now()): Promise<{ address: Address; account: Address; cookie: string }> {
  const parsed = signInSchema.safeParse(body);
  if (!parsed.success) throw new ApiError(400, 'BAD_SIGN_IN', 'A sign-in needs address, issuedAt and signature');
  const { issuedAt, signature } = parsed.data;
  const address = getAddress(parsed.data.address);
  if (Math.abs(now / 1000 - issuedAt) > SESSION_SIGNATURE_WINDOW_S) {
    throw new ApiError(401, 'SIGN_IN_EXPIRED', 'The sign-in message is too old (or from the future); sign again');
  }
  const ok = await verifyTypedData({ address, signature: signature as Hex, ...sessionTypedData(serverConfig().config.CHAIN_ID, address, issuedAt) });
  if (!ok) throw new ApiError(401, 'BAD_SIGNATURE', 'The sign-in signature is not from this address');
  const account = await accountForWallet(address);
  const expires = Math.floor(now / 1000) + SESSION_S;
  const payload = `${address.toLowerCase()}.${account.toLowerCase()}.${expires}`;
  return { address, account, cookie: `${COOKIE}=${payload}.${mac(payload)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_S}` };
}

export interface Session {
  /** The wallet that signed in (lowercase). */
  wallet: Address;
  /** The patient account it acts for (lowercase): the one it controls, or the wallet itself. */
  account: Address;
}

/** The signed-in session, or a 401. */
export function requireSession(request: Request, now = Date.now()): Session {
  const cookie = request.headers.get('cookie') ?? '';
  const value = cookie
    .split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${COOKIE}=`))
    ?.slice(COOKIE.length + 1);
  const parts = value?.split('.') ?? [];
  const [wallet, account, expires, tag] = parts;
  if (parts.length !== 4 || !wallet || !account || !expires || !tag) throw new ApiError(401, 'NOT_SIGNED_IN', 'Sign in first: your wallet signs a free message');
  const expected = Buffer.from(mac(`${wallet}.${account}.${expires}`));
  const given = Buffer.from(tag);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new ApiError(401, 'NOT_SIGNED_IN', 'The session is not valid; sign in again');
  if (Number(expires) * 1000 < now) throw new ApiError(401, 'SESSION_EXPIRED', 'The session has expired; sign in again');
  return { wallet: wallet as Address, account: account as Address };
}

/**
 * The signed-in patient's account (lowercase), or a 401: what records, shares and grants are keyed
 * by. After a recovery it is the account the wallet took over, not the wallet's own address.
 */
export function requirePatient(request: Request, now = Date.now()): Address {
  return requireSession(request, now).account;
}

/** The signed-in wallet (lowercase), or a 401: who signs, e.g. a guardian releasing its share. */
export function requireWallet(request: Request, now = Date.now()): Address {
  return requireSession(request, now).wallet;
}

/**
 * The signed-in patient's account for a write, checked against the chain now: a session signed before
 * a recovery moved the account to another wallet (it lasts up to 12 hours) is refused, so a lost or
 * stolen wallet cannot upload, erase, re-share or set webhooks for the account it no longer controls.
 */
export async function requireCurrentPatient(request: Request, now = Date.now()): Promise<Address> {
  const { wallet, account } = requireSession(request, now);
  let current: Address;
  try {
    current = await accountForWallet(wallet as Address);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'ACCOUNT_RECOVERED') {
      throw new ApiError(403, 'NOT_CONTROLLER', `${err.message.replace(/; sign in with that one$/, '')}: this session can no longer act for it`);
    }
    throw err;
  }
  if (current.toLowerCase() !== account.toLowerCase()) throw new ApiError(401, 'SESSION_STALE', 'The account this wallet acts for has changed since you signed in; sign in again');
  return account;
}
