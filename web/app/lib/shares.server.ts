/**
 * Committee shares behind "My records". The patient's browser asks which of its versions have no
 * share for the committee's current epoch, opens their data keys itself, splits them and sends back
 * one sealed share per member. The server only stores what it is sent: a share is a clear header
 * and a key sealed to one committee member, so nothing here can open a record or a share.
 */
import type { Address } from 'viem';
import { z } from 'zod';
import { readShareHeader } from '@consentry/sdk/crypto/shares';
import { fromBase64 } from '@consentry/sdk/records/versions';
import { recordStores } from './records.server.ts';
import { ApiError } from './session.server.ts';

/** The most versions one page of /api/records/unshared returns (and one POST may carry shares for). */
export const UNSHARED_PAGE_MAX = 500;
/** ReleaseCommittee caps the committee at 32 members. */
const MAX_MEMBERS = 32;

const epochParam = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const limitParam = z.coerce.number().int().min(0).max(UNSHARED_PAGE_MAX);

export interface UnsharedPage {
  epoch: number;
  /** Up to `limit` versions with no share for `epoch`, oldest first, each with the patient's sealed key. */
  versions: Array<{ recordId: string; version: number; sealedKey: string }>;
  /** How many versions lack shares for `epoch` in all (only when asked with count=1). */
  remaining?: number;
}

/** GET /api/records/unshared?epoch=N[&limit=L][&count=1]: what the patient's client still has to split. */
export async function unsharedVersions(patient: Address, url: URL): Promise<UnsharedPage> {
  const epoch = epochParam.safeParse(url.searchParams.get('epoch') ?? undefined);
  if (!epoch.success) throw new ApiError(400, 'BAD_EPOCH', 'Give the committee epoch as a whole number: ?epoch=N');
  const limit = limitParam.safeParse(url.searchParams.get('limit') ?? UNSHARED_PAGE_MAX);
  if (!limit.success) throw new ApiError(400, 'BAD_LIMIT', `The limit must be a whole number from 0 to ${UNSHARED_PAGE_MAX}`);
  const { vault } = await recordStores();
  const rows = limit.data > 0 ? await vault.versionsWithoutShares(patient, epoch.data, limit.data) : [];
  const page: UnsharedPage = {
    epoch: epoch.data,
    versions: rows.map((r) => ({ recordId: r.recordId, version: r.version, sealedKey: r.sealedKey! })),
  };
  if (url.searchParams.get('count') === '1') page.remaining = (await vault.versionsWithoutShares(patient, epoch.data, Number.MAX_SAFE_INTEGER)).length;
  return page;
}

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, 'a 32-byte lowercase hex id');
export const sharesSchema = z.object({
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  shares: z
    .array(
      z.object({
        recordId: hex32,
        version: z.number().int().min(1).max(0x7fffffff),
        member: z.string().regex(/^0x[0-9a-f]{40}$/, 'a lowercase address'),
        // header (~150 bytes with two ids) + the 105-byte sealed key, base64
        sealedShare: z.string().min(300).max(600),
      }),
    )
    .min(1)
    .max(UNSHARED_PAGE_MAX * MAX_MEMBERS),
});

/**
 * POST /api/records/shares {epoch, shares}: stores sealed shares of the patient's own versions.
 * Each share's clear header must say what the row says (record, version, member, epoch); the whole
 * upload is refused on the first bad share. Shares already stored are kept as they are.
 */
export async function storeShares(patient: Address, body: unknown): Promise<{ stored: number }> {
  const parsed = sharesSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new ApiError(400, 'BAD_SHARES', `The shares are malformed at ${first.path.join('.') || 'the top level'}: ${first.message}`);
  }
  const { epoch, shares } = parsed.data;
  const { vault } = await recordStores();
  const recordIds = [...new Set(shares.map((s) => s.recordId))];
  const [latest, erased] = await Promise.all([vault.latest(patient, recordIds), vault.erasures(patient)]);
  for (const [i, s] of shares.entries()) {
    const where = `shares.${i} (record ${s.recordId.slice(0, 10)}… version ${s.version}, member ${s.member})`;
    let header: ReturnType<typeof readShareHeader>;
    try {
      header = readShareHeader(fromBase64(s.sealedShare));
    } catch (err) {
      throw new ApiError(400, 'BAD_SHARE', `${where}: ${err instanceof Error ? err.message : 'not a sealed share'}`);
    }
    if (header.recordId !== s.recordId || header.version !== s.version || header.memberId !== s.member || header.epoch !== epoch) {
      throw new ApiError(400, 'SHARE_MISMATCH', `${where}: the share's header names another record, version, member or epoch`);
    }
    const own = latest.get(s.recordId);
    if (!own || s.version > own.version) throw new ApiError(404, 'RECORD_NOT_FOUND', `${where}: no such version among your records`);
    if (erased.has(s.recordId)) throw new ApiError(409, 'RECORD_ERASED', `${where}: the record was erased; its key is gone and takes no shares`);
  }
  const stored = await vault.insertShares(shares.map((s) => ({ recordId: s.recordId, version: s.version, member: s.member, epoch, sealedShare: s.sealedShare })));
  return { stored };
}
