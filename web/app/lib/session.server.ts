/**
 * Sessions for the records API. A patient signs the sign-in message (sdk/records/session.ts); the
 * server verifies it and sets an HttpOnly cookie `<address>.<expiry>.<HMAC>` under a secret kept
 * in DATA_DIR (created on first use, so sessions survive a restart). The cookie says who is
 * calling; it never carries or unlocks a key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAddress, verifyTypedData, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { SESSION_SIGNATURE_WINDOW_S, sessionTypedData } from '@consentry/sdk/records/session';
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

/** Checks a signed sign-in and returns the Set-Cookie header for its session. */
export async function signIn(body: unknown, now = Date.now()): Promise<{ address: Address; cookie: string }> {
  const parsed = signInSchema.safeParse(body);
  if (!parsed.success) throw new ApiError(400, 'BAD_SIGN_IN', 'A sign-in needs address, issuedAt and signature');
  const { issuedAt, signature } = parsed.data;
  const address = getAddress(parsed.data.address);
  if (Math.abs(now / 1000 - issuedAt) > SESSION_SIGNATURE_WINDOW_S) {
    throw new ApiError(401, 'SIGN_IN_EXPIRED', 'The sign-in message is too old (or from the future); sign again');
  }
  const ok = await verifyTypedData({ address, signature: signature as Hex, ...sessionTypedData(serverConfig().config.CHAIN_ID, address, issuedAt) });
  if (!ok) throw new ApiError(401, 'BAD_SIGNATURE', 'The sign-in signature is not from this address');
  const expires = Math.floor(now / 1000) + SESSION_S;
  const payload = `${address.toLowerCase()}.${expires}`;
  return { address, cookie: `${COOKIE}=${payload}.${mac(payload)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_S}` };
}

/** The signed-in patient's address (lowercase), or a 401. */
export function requirePatient(request: Request, now = Date.now()): Address {
  const cookie = request.headers.get('cookie') ?? '';
  const value = cookie
    .split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${COOKIE}=`))
    ?.slice(COOKIE.length + 1);
  const [address, expires, tag] = value?.split('.') ?? [];
  if (!address || !expires || !tag) throw new ApiError(401, 'NOT_SIGNED_IN', 'Sign in first: your wallet signs a free message');
  const expected = Buffer.from(mac(`${address}.${expires}`));
  const given = Buffer.from(tag);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new ApiError(401, 'NOT_SIGNED_IN', 'The session is not valid; sign in again');
  if (Number(expires) * 1000 < now) throw new ApiError(401, 'SESSION_EXPIRED', 'The session has expired; sign in again');
  return address as Address;
}
