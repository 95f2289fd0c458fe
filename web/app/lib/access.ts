/**
 * Small pure helpers behind the patient's "Access" page: the index's answer parsed into typed
 * rows, the inbox ordered (pending requests first, then events newest first), durations and
 * expiries in words, and the rules of an approval (only asked categories, at most the asked time).
 * No I/O here; access.client.ts does the talking.
 */
import { z } from 'zod';
import { categoriesOf, ORGANIZATION_KINDS, PURPOSES, type OrganizationKind } from '@consentry/sdk/access/actions';
import { CATEGORIES, type Category } from '@consentry/sdk/records/categories';

const DAY = 86_400;
const HOUR = 3_600;
const MINUTE = 60;

const big = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform((v) => Number(v));
const bigOrNull = big.nullable().optional().transform((v) => v ?? null);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/).transform((s) => s.toLowerCase() as `0x${string}`);
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/).transform((s) => s.toLowerCase() as `0x${string}`);

export const accessRequestSchema = z.object({
  requestId: big,
  requester: address,
  categories: z.number().int(),
  purpose: z.number().int(),
  duration: big,
  status: z.string(),
  createdAtTimestamp: big,
  createdAtBlock: big,
});
export const grantSchema = z.object({
  grantee: address,
  categories: z.number().int(),
  purpose: z.number().int(),
  requestId: big,
  grantedAt: big,
  expiresAt: big,
});
export const breakGlassSchema = z.object({
  provider: address,
  categories: z.number().int(),
  reasonHash: hex,
  openedAt: big,
  expiresAt: big,
  openings: z.number().int(),
});
export const accessEventSchema = z.object({
  id: hex,
  kind: z.string(),
  organization: address,
  actor: address,
  requestId: bigOrNull,
  categories: z.number().int().nullable().optional().transform((v) => v ?? null),
  purpose: z.number().int().nullable().optional().transform((v) => v ?? null),
  duration: bigOrNull,
  expiresAt: bigOrNull,
  reasonHash: hex.nullable().optional().transform((v) => v ?? null),
  blockNumber: big,
  blockTimestamp: big,
  transactionHash: hex,
});
export const inboxSchema = z.object({
  accessRequests: z.array(accessRequestSchema),
  accessEvents: z.array(accessEventSchema),
  grants: z.array(grantSchema),
  breakGlasses: z.array(breakGlassSchema),
  patientPolicy: z.object({ neverShare: z.number().int(), bannedKinds: z.number().int() }).nullable(),
  _meta: z.object({ block: z.object({ number: big, timestamp: big.nullable().optional() }) }).nullable().optional(),
});

export type AccessRequestRow = z.infer<typeof accessRequestSchema>;
export type GrantRow = z.infer<typeof grantSchema>;
export type BreakGlassRow = z.infer<typeof breakGlassSchema>;
export type AccessEventRow = z.infer<typeof accessEventSchema>;
export type InboxData = z.infer<typeof inboxSchema>;

/** What the page shows: requests to answer, history, and what is open now (by chain time `now`). */
export interface Inbox {
  pending: AccessRequestRow[];
  /** Newest first; request creations are left out (pending ones are above, answered ones have their answer). */
  events: AccessEventRow[];
  activeGrants: GrantRow[];
  openBreakGlass: BreakGlassRow[];
  policy: { neverShare: Category[]; bannedKinds: OrganizationKind[] };
  indexedBlock: number | null;
}

/** Orders and filters the index's answer; `now` is chain time in seconds. */
export function buildInbox(data: InboxData, now: number): Inbox {
  const pending = data.accessRequests.filter((r) => r.status === 'PENDING').sort((a, b) => b.requestId - a.requestId);
  const events = data.accessEvents
    .filter((e) => e.kind !== 'REQUEST_CREATED')
    .sort((a, b) => b.blockNumber - a.blockNumber || b.id.localeCompare(a.id));
  return {
    pending,
    events,
    activeGrants: data.grants.filter((g) => g.expiresAt > now).sort((a, b) => a.expiresAt - b.expiresAt),
    openBreakGlass: data.breakGlasses.filter((w) => w.expiresAt > now).sort((a, b) => a.expiresAt - b.expiresAt),
    policy: {
      neverShare: categoriesOf(data.patientPolicy?.neverShare ?? 0),
      bannedKinds: kindsOf(data.patientPolicy?.bannedKinds ?? 0),
    },
    indexedBlock: data._meta?.block.number ?? null,
  };
}

/** A bannedKinds bitmask as kind codes. */
export function kindsOf(mask: number): OrganizationKind[] {
  return ORGANIZATION_KINDS.filter((_, i) => (mask & (1 << i)) !== 0).map((k) => k.code);
}

export const purposeLabel = (index: number | null): string =>
  index === null ? '' : (PURPOSES[index]?.label ?? `Unknown purpose (${index})`);

export const kindLabel = (code: OrganizationKind | 'unknown'): string =>
  ORGANIZATION_KINDS.find((k) => k.code === code)?.label ?? 'Unknown kind';

/** A category as people read it: "mental health". */
export const categoryLabel = (c: string): string => c.replace(/-/g, ' ');

/** A span of seconds in the largest whole unit that fits: "7 days", "4 hours", "90 seconds". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (s >= DAY && s % DAY === 0) return unit(s / DAY, 'day');
  if (s >= DAY) return `${unit(Math.floor(s / DAY), 'day')} ${unit(Math.floor((s % DAY) / HOUR), 'hour')}`;
  if (s >= HOUR && s % HOUR === 0) return unit(s / HOUR, 'hour');
  if (s >= HOUR) return `${unit(Math.floor(s / HOUR), 'hour')} ${unit(Math.floor((s % HOUR) / MINUTE), 'minute')}`;
  if (s >= MINUTE && s % MINUTE === 0) return unit(s / MINUTE, 'minute');
  return unit(s, 'second');
}

/** "in 6 days 23 hours" or "3 minutes ago", from `at` relative to `now` (both seconds). */
export function relativeTime(at: number, now: number): string {
  const d = at - now;
  if (Math.abs(d) < 1) return 'now';
  // Round to the unit shown so "in 7 days" does not read "in 6 days 23 hours" a second after approval.
  const a = Math.abs(d);
  const coarse = a >= DAY ? Math.round(a / HOUR) * HOUR : a >= MINUTE ? Math.round(a / MINUTE) * MINUTE : a;
  return d > 0 ? `in ${formatDuration(coarse)}` : `${formatDuration(coarse)} ago`;
}

/** Unix seconds as an absolute date and time (in the browser's zone; UTC in tests). */
export function absoluteTime(at: number, timeZone?: string): string {
  return new Date(at * 1000).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) });
}

/**
 * The durations offered for an approval: whole days up to what was asked, plus the asked duration
 * itself when it is not a whole number of days (a 4-hour request is offered as "4 hours" only).
 */
export function durationChoices(askedSeconds: number): Array<{ seconds: number; label: string }> {
  const out: Array<{ seconds: number; label: string }> = [];
  for (const days of [1, 2, 3, 7, 14, 30, 60, 90, 180, 365]) {
    if (days * DAY < askedSeconds) out.push({ seconds: days * DAY, label: formatDuration(days * DAY) });
  }
  out.push({ seconds: askedSeconds, label: formatDuration(askedSeconds) });
  return out;
}

/** Why an approval as chosen cannot be sent, in words; null when it can. */
export function approvalProblem(asked: { categories: number; duration: number }, chosen: { categories: readonly Category[]; durationSeconds: number }): string | null {
  const allowed = new Set(categoriesOf(asked.categories));
  if (chosen.categories.length === 0) return 'Choose at least one category to approve, or deny the request';
  const extra = chosen.categories.filter((c) => !allowed.has(c));
  if (extra.length > 0) return `Only the categories asked for may be approved (not ${extra.map(categoryLabel).join(', ')})`;
  if (!Number.isInteger(chosen.durationSeconds) || chosen.durationSeconds < 1) return 'Choose how long the access lasts';
  if (chosen.durationSeconds > asked.duration) return `An approval may not last longer than was asked for (${formatDuration(asked.duration)})`;
  return null;
}

/** Categories in the sdk's order (how checkboxes and lists show them). */
export const inCategoryOrder = (cs: Iterable<string>): Category[] => {
  const set = new Set(cs);
  return CATEGORIES.filter((c) => set.has(c));
};

const EVENT_WORDS: Record<string, string> = {
  REQUEST_CREATED: 'Asked for access',
  REQUEST_APPROVED: 'You approved access',
  REQUEST_DENIED: 'You denied a request',
  REQUEST_CANCELLED: 'Request cancelled',
  GRANT_REVOKED: 'You revoked access',
  BREAK_GLASS_OPENED: 'Emergency access opened (break-glass)',
  BREAK_GLASS_CLOSED: 'Emergency access closed',
  RECOVERY_STARTED: 'Recovery of your account started',
  RECOVERY_APPROVED: 'Recovery approved by a guardian',
  RECOVERY_READY: 'Recovery has its approvals',
  RECOVERY_CANCELLED: 'Recovery cancelled',
  ACCOUNT_RECOVERED: 'Your account moved to a new wallet',
  GUARDIANS_CHANGED: 'Your guardians changed',
  GUARDIAN_CHANGE_PROPOSED: 'New guardians proposed',
  GUARDIAN_CHANGE_CANCELLED: 'Guardian change withdrawn',
};
export const eventLabel = (kind: string): string => EVENT_WORDS[kind] ?? kind;

/** A short address for display ("0x1234…abcd"); the full one goes in a title. */
export const shortAddress = (a: string): string => `${a.slice(0, 6)}…${a.slice(-4)}`;

/** Whether an event is about the account's guardians or a recovery of it (PatientRegistry), not access. */
export const isRecoveryEvent = (kind: string): boolean => kind.startsWith('RECOVERY_') || kind.startsWith('GUARDIAN') || kind === 'ACCOUNT_RECOVERED';

/**
 * A guardian or recovery event of the account in one sentence (subgraph/schema.graphql AccessEvent:
 * organization is the new wallet or the guardian, actor who acted, expiresAt when it may complete or
 * apply, duration the recovery delay); null for other kinds.
 */
export function recoveryWords(e: Pick<AccessEventRow, 'kind' | 'organization' | 'actor' | 'duration' | 'expiresAt'>, timeZone?: string): string | null {
  const when = (at: number | null) => (at === null ? 'later' : absoluteTime(at, timeZone));
  switch (e.kind) {
    case 'RECOVERY_STARTED':
      return `Guardian ${shortAddress(e.actor)} started a recovery of your account to wallet ${shortAddress(e.organization)}. If you did not ask for it, cancel it on the Recovery page before it completes.`;
    case 'RECOVERY_APPROVED':
      return `Guardian ${shortAddress(e.actor)} approved the recovery of your account`;
    case 'RECOVERY_READY':
      return `The recovery of your account has its approvals: the new wallet can complete it from ${when(e.expiresAt)}`;
    case 'RECOVERY_CANCELLED':
      return 'Recovery cancelled';
    case 'ACCOUNT_RECOVERED':
      return `Your account moved to wallet ${shortAddress(e.organization)}`;
    case 'GUARDIANS_CHANGED':
      return `Your guardians changed${e.duration === null ? '' : `: a recovery waits ${formatDuration(e.duration)} after its approvals`}`;
    case 'GUARDIAN_CHANGE_PROPOSED':
      return `New guardians were proposed for your account; they can take effect from ${when(e.expiresAt)} unless you withdraw them`;
    case 'GUARDIAN_CHANGE_CANCELLED':
      return 'A proposed change of your guardians was withdrawn';
    default:
      return null;
  }
}

/**
 * Why a pending request can no longer be approved as asked because of the patient's policy now (it
 * was checked when the request was made; the policy may have changed since), or null.
 */
export function policyConflict(
  policy: { neverShare: readonly Category[]; bannedKinds: readonly OrganizationKind[] },
  asked: readonly Category[],
  kind: OrganizationKind | 'unknown' | undefined,
): string | null {
  if (kind && kind !== 'unknown' && policy.bannedKinds.includes(kind)) {
    return `Your policy now refuses every ${kindLabel(kind).toLowerCase()}: an approval would be refused. Deny the request, or change your policy first.`;
  }
  const blocked = asked.filter((c) => policy.neverShare.includes(c));
  if (blocked.length > 0) {
    return `Your policy now never shares ${blocked.map(categoryLabel).join(', ')}: an approval that includes ${blocked.length === 1 ? 'it' : 'them'} would be refused. Uncheck ${blocked.length === 1 ? 'it' : 'them'}, or deny the request.`;
  }
  return null;
}
