import { describe, expect, it } from 'vitest';
import {
  absoluteTime,
  approvalProblem,
  buildInbox,
  durationChoices,
  eventLabel,
  isRecoveryEvent,
  recoveryWords,
  formatDuration,
  inboxSchema,
  inCategoryOrder,
  kindsOf,
  policyConflict,
  purposeLabel,
  relativeTime,
} from './access.ts';

const DAY = 86_400;
const org = '0x' + 'aB'.repeat(20);

describe('durations and times in words', () => {
  it('says a duration in its largest whole unit', () => {
    expect(formatDuration(7 * DAY)).toBe('7 days');
    expect(formatDuration(DAY)).toBe('1 day');
    expect(formatDuration(4 * 3600)).toBe('4 hours');
    expect(formatDuration(DAY + 3 * 3600 + 5)).toBe('1 day 3 hours');
    expect(formatDuration(90)).toBe('90 seconds');
    expect(formatDuration(120)).toBe('2 minutes');
    expect(formatDuration(0)).toBe('0 seconds');
  });

  it('says an expiry relative to chain time, and absolutely', () => {
    expect(relativeTime(1000 + 7 * DAY - 1, 1000)).toBe('in 7 days');
    expect(relativeTime(1000 - 180, 1000)).toBe('3 minutes ago');
    expect(relativeTime(1000, 1000)).toBe('now');
    expect(relativeTime(1000 - 497, 1000)).toBe('8 minutes ago');
    expect(relativeTime(1000 + 45, 1000)).toBe('in 45 seconds');
    expect(absoluteTime(1_764_072_000, 'UTC')).toBe('25 Nov 2025, 12:00');
  });

  it('offers whole days up to the asked duration, and the asked duration last', () => {
    expect(durationChoices(7 * DAY).map((c) => c.label)).toEqual(['1 day', '2 days', '3 days', '7 days']);
    expect(durationChoices(4 * 3600)).toEqual([{ seconds: 4 * 3600, label: '4 hours' }]);
    expect(durationChoices(10 * DAY).at(-1)).toEqual({ seconds: 10 * DAY, label: '10 days' });
  });
});

describe('approvalProblem', () => {
  const asked = { categories: 0b1001, duration: 7 * DAY }; // labs, conditions
  it('accepts the asked categories or fewer, for at most the asked time', () => {
    expect(approvalProblem(asked, { categories: ['labs', 'conditions'], durationSeconds: 7 * DAY })).toBeNull();
    expect(approvalProblem(asked, { categories: ['labs'], durationSeconds: DAY })).toBeNull();
  });
  it('refuses in words: nothing chosen, a category not asked for, too long', () => {
    expect(approvalProblem(asked, { categories: [], durationSeconds: DAY })).toMatch(/at least one category/);
    expect(approvalProblem(asked, { categories: ['labs', 'mental-health'], durationSeconds: DAY })).toBe('Only the categories asked for may be approved (not mental health)');
    expect(approvalProblem(asked, { categories: ['labs'], durationSeconds: 8 * DAY })).toBe('An approval may not last longer than was asked for (7 days)');
    expect(approvalProblem(asked, { categories: ['labs'], durationSeconds: 0 })).toMatch(/how long/);
  });
});

describe('buildInbox', () => {
  const data = inboxSchema.parse({
    accessRequests: [
      { requestId: '1', requester: org, categories: 1, purpose: 0, duration: String(7 * DAY), status: 'PENDING', createdAtTimestamp: '100', createdAtBlock: '10' },
      { requestId: '3', requester: org, categories: 3, purpose: 4, duration: String(DAY), status: 'PENDING', createdAtTimestamp: '300', createdAtBlock: '30' },
      { requestId: '2', requester: org, categories: 1, purpose: 0, duration: '60', status: 'DENIED', createdAtTimestamp: '200', createdAtBlock: '20' },
    ],
    accessEvents: [
      { id: '0x01', kind: 'REQUEST_CREATED', organization: org, actor: org, requestId: '1', categories: 1, purpose: 0, duration: '60', expiresAt: null, reasonHash: null, blockNumber: '10', blockTimestamp: '100', transactionHash: '0xaa' },
      { id: '0x02', kind: 'REQUEST_DENIED', organization: org, actor: org, requestId: '2', categories: null, purpose: null, duration: null, expiresAt: null, reasonHash: null, blockNumber: '21', blockTimestamp: '210', transactionHash: '0xbb' },
      { id: '0x03', kind: 'BREAK_GLASS_OPENED', organization: org, actor: org, requestId: null, categories: 0x080e, purpose: null, duration: null, expiresAt: '5000', reasonHash: '0x12', blockNumber: '40', blockTimestamp: '400', transactionHash: '0xcc' },
    ],
    grants: [
      { grantee: org, categories: 1, purpose: 0, requestId: '5', grantedAt: '100', expiresAt: '2000' },
      { grantee: org, categories: 1, purpose: 0, requestId: '6', grantedAt: '100', expiresAt: '900' },
    ],
    breakGlasses: [{ provider: org, categories: 0x080e, reasonHash: '0x12', openedAt: '400', expiresAt: '5000', openings: 1 }],
    patientPolicy: { neverShare: 1 << 8, bannedKinds: 1 << 3 },
    _meta: { block: { number: 41, timestamp: 410 } },
  });

  it('puts pending requests first (newest first), then answers and break-glass newest first, and keeps only what is open now', () => {
    const inbox = buildInbox(data, 1000);
    expect(inbox.pending.map((r) => r.requestId)).toEqual([3, 1]);
    expect(inbox.events.map((e) => e.kind)).toEqual(['BREAK_GLASS_OPENED', 'REQUEST_DENIED']);
    expect(inbox.activeGrants.map((g) => g.requestId)).toEqual([5]);
    expect(inbox.openBreakGlass).toHaveLength(1);
    expect(inbox.policy).toEqual({ neverShare: ['mental-health'], bannedKinds: ['insurer'] });
    expect(inbox.indexedBlock).toBe(41);
    expect(inbox.pending[0]!.requester).toBe(org.toLowerCase());
  });

  it('reads a patient the index has no policy for as sharing everything', () => {
    expect(buildInbox({ ...data, patientPolicy: null }, 1000).policy).toEqual({ neverShare: [], bannedKinds: [] });
  });

  it('refuses an answer of the wrong shape', () => {
    expect(() => inboxSchema.parse({ ...data, accessRequests: [{ requestId: 'x' }] })).toThrow();
  });
});

describe('labels', () => {
  it('names purposes, kinds, events and orders categories as the sdk does', () => {
    expect(purposeLabel(0)).toBe('Treatment');
    expect(purposeLabel(42)).toBe('Unknown purpose (42)');
    expect(kindsOf(0b1010)).toEqual(['emergency-provider', 'insurer']);
    expect(eventLabel('GRANT_REVOKED')).toBe('You revoked access');
    expect(inCategoryOrder(['conditions', 'labs'])).toEqual(['labs', 'conditions']);
  });

  it('says guardian and recovery events of the account in words', () => {
    const guardian = `0x${'9a'.repeat(20)}` as const;
    const wallet = `0x${'5b'.repeat(20)}` as const;
    const zero = `0x${'00'.repeat(20)}` as const;
    const e = (kind: string, organization: `0x${string}`, actor: `0x${string}`, extra: { duration?: number; expiresAt?: number } = {}) => ({
      kind,
      organization,
      actor,
      duration: extra.duration ?? null,
      expiresAt: extra.expiresAt ?? null,
    });
    expect(recoveryWords(e('RECOVERY_STARTED', wallet, guardian))).toBe(
      'Guardian 0x9a9a…9a9a started a recovery of your account to wallet 0x5b5b…5b5b. If you did not ask for it, cancel it on the Recovery page before it completes.',
    );
    expect(recoveryWords(e('RECOVERY_APPROVED', guardian, guardian))).toBe('Guardian 0x9a9a…9a9a approved the recovery of your account');
    expect(recoveryWords(e('RECOVERY_READY', zero, zero, { expiresAt: 1_800_000_000 }), 'UTC')).toBe(
      'The recovery of your account has its approvals: the new wallet can complete it from 15 Jan 2027, 08:00',
    );
    expect(recoveryWords(e('RECOVERY_CANCELLED', guardian, guardian))).toBe('Recovery cancelled');
    expect(recoveryWords(e('ACCOUNT_RECOVERED', wallet, guardian))).toBe('Your account moved to wallet 0x5b5b…5b5b');
    expect(recoveryWords(e('GUARDIANS_CHANGED', zero, zero, { duration: 2 * 86_400 }))).toBe('Your guardians changed: a recovery waits 2 days after its approvals');
    expect(recoveryWords(e('GUARDIAN_CHANGE_PROPOSED', zero, zero, { duration: 86_400, expiresAt: 1_800_000_000 }), 'UTC')).toBe(
      'New guardians were proposed for your account; they can take effect from 15 Jan 2027, 08:00 unless you withdraw them',
    );
    expect(recoveryWords(e('GUARDIAN_CHANGE_CANCELLED', zero, zero))).toBe('A proposed change of your guardians was withdrawn');
    expect(recoveryWords(e('GRANT_REVOKED', guardian, guardian))).toBeNull();
    expect(['RECOVERY_STARTED', 'ACCOUNT_RECOVERED', 'GUARDIANS_CHANGED', 'GUARDIAN_CHANGE_PROPOSED'].every(isRecoveryEvent)).toBe(true);
    expect(isRecoveryEvent('BREAK_GLASS_OPENED')).toBe(false);
  });
});

describe('policyConflict', () => {
  it('warns when the policy changed since the request: a banned kind, or a never-share category asked for', () => {
    expect(policyConflict({ neverShare: [], bannedKinds: ['insurer'] }, ['labs'], 'insurer')).toMatch(/^Your policy now refuses every insurer/);
    expect(policyConflict({ neverShare: ['mental-health'], bannedKinds: [] }, ['labs', 'mental-health'], 'provider')).toBe(
      'Your policy now never shares mental health: an approval that includes it would be refused. Uncheck it, or deny the request.',
    );
    expect(policyConflict({ neverShare: ['notes'], bannedKinds: ['insurer'] }, ['labs'], 'provider')).toBeNull();
    expect(policyConflict({ neverShare: [], bannedKinds: ['insurer'] }, ['labs'], undefined)).toBeNull();
  });
});
