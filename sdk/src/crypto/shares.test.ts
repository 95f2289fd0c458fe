import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { ANVIL_ACCOUNTS } from '../testing/anvil.ts';
import { createKeyOpener, createKeySealer, DecryptionError, decryptRecord, encryptRecord } from './envelope.ts';
import {
  combineShares,
  CommitteeUnavailableError,
  createDataKeySplitter,
  createShareOpener,
  DuplicateShareError,
  openShare,
  readShareHeader,
  reshareAll,
  reshareDataKey,
  ShareError,
  ShareMismatchError,
  splitDataKey,
  StaleShareError,
  TamperedShareError,
  WrongMemberKeyError,
  type Committee,
  type OpenedShare,
  type ReshareInput,
  type ReshareOutput,
  type SealedShare,
} from './shares.ts';

interface TestMember {
  id: string;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}
// Members are known by their account address, as ReleaseCommittee lists them.
const newMember = (n: number): TestMember => {
  const secretKey = randomBytes(32);
  return { id: ANVIL_ACCOUNTS[n]?.address ?? `member-${n}`, secretKey, publicKey: x25519.getPublicKey(secretKey) };
};
const members = [0, 1, 2, 3, 4].map(newMember);
const committee: Committee = { epoch: 7, threshold: 3, members };
const record = { recordId: '0x' + 'ab'.repeat(32), version: 1 };
const ids = members.map((m) => m.id);
const secretOf = new Map(members.map((m) => [m.id, m.secretKey]));

const openAll = (shares: SealedShare[], keys: Map<string, Uint8Array> = secretOf): OpenedShare[] =>
  shares.map((s) => openShare(s.sealed, keys.get(s.memberId)!));
const flip = (bytes: Uint8Array, index: number) => {
  const copy = bytes.slice();
  copy[index] = copy[index]! ^ 0x01;
  return copy;
};
/** Every subset of `items` of size `size`, in order. */
function subsets<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  if (items.length < size) return [];
  const [head, ...rest] = items;
  return [...subsets(rest, size - 1).map((s) => [head!, ...s]), ...subsets(rest, size)];
}
const shuffled = <T,>(items: readonly T[]): T[] => {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

describe('splitDataKey / openShare / combineShares (3-of-5)', () => {
  it('every 3-, 4- and 5-member subset recovers the data key, in any order', async () => {
    const dek = randomBytes(32);
    const opened = openAll(await splitDataKey(dek, committee, record));
    expect(opened.map((s) => s.memberId)).toEqual(ids);
    let tried = 0;
    for (const size of [3, 4, 5]) {
      for (const subset of subsets(opened, size)) {
        expect(bytesToHex(await combineShares(shuffled(subset), { threshold: 3, epoch: 7, record })), `members ${subset.map((s) => s.memberId)}`).toBe(
          bytesToHex(dek),
        );
        tried++;
      }
    }
    expect(tried).toBe(10 + 5 + 1);
  });

  it('any 2 shares (and none) fail as "committee unavailable", naming the missing members when told', async () => {
    const opened = openAll(await splitDataKey(randomBytes(32), committee, record));
    const pairs = subsets(opened, 2);
    expect(pairs).toHaveLength(10);
    for (const pair of pairs) {
      const present = pair.map((s) => s.memberId);
      const error = await combineShares(pair, { threshold: 3, members: ids }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommitteeUnavailableError);
      const { missing, code, message } = error as CommitteeUnavailableError;
      expect(code).toBe('COMMITTEE_UNAVAILABLE');
      expect(missing).toEqual(ids.filter((m) => !present.includes(m)));
      expect(message).toBe(`Committee unavailable: 2 of the 3 shares needed; no share from members ${missing.join(', ')}`);
    }
    await expect(combineShares(opened.slice(0, 2), { threshold: 3 })).rejects.toThrowError(/^Committee unavailable: 2 of the 3 shares needed$/);
    await expect(combineShares([], { threshold: 3 })).rejects.toThrowError(CommitteeUnavailableError);
  });

  it('a share is 105 bytes of sealed key behind its header, one per member, each sealed to that member', async () => {
    const shares = await splitDataKey(randomBytes(32), committee, record);
    for (const [i, s] of shares.entries()) {
      const header = readShareHeader(s.sealed);
      expect(s.sealed.length).toBe(header.headerLength + 105);
      expect(header).toMatchObject({ epoch: 7, threshold: 3, committeeSize: 5, memberId: ids[i], ...record });
      expect(bytesToHex(header.memberPublicKey)).toBe(bytesToHex(members[i]!.publicKey));
    }
    // Shamir x-coordinates are distinct; the split id and commitment are shared.
    const headers = shares.map((s) => readShareHeader(s.sealed));
    expect(new Set(headers.map((h) => h.x)).size).toBe(5);
    expect(new Set(headers.map((h) => bytesToHex(h.splitId))).size).toBe(1);
  });

  it('a flipped byte anywhere in any share fails to open (tampered; wrong member if it hits the member key)', async () => {
    const shares = await splitDataKey(randomBytes(32), committee, record);
    let flips = 0;
    for (const s of shares) {
      const open = createShareOpener(secretOf.get(s.memberId)!);
      for (let i = 0; i < s.sealed.length; i++) {
        const error = (() => {
          try {
            open(flip(s.sealed, i));
          } catch (e) {
            return e;
          }
        })();
        // Bytes 12–43 name the member's key: a change there reads as "not sealed to this key".
        expect(error, `share of member ${s.memberId}, byte ${i}`).toBeInstanceOf(i >= 12 && i < 44 ? WrongMemberKeyError : TamperedShareError);
        flips++;
      }
      expect(() => open(s.sealed.subarray(0, s.sealed.length - 1))).toThrowError(/truncated/);
      expect(() => open(new Uint8Array([...s.sealed, 0]))).toThrowError(TamperedShareError);
    }
    expect(flips).toBeGreaterThan(5 * 250);
  });

  it("a share opened with another member's key fails, naming the member it is for", async () => {
    const shares = await splitDataKey(randomBytes(32), committee, record);
    for (const s of shares) {
      for (const m of members.filter((m) => m.id !== s.memberId)) {
        expect(() => openShare(s.sealed, m.secretKey)).toThrowError(WrongMemberKeyError);
      }
    }
    expect(() => openShare(shares[2]!.sealed, members[3]!.secretKey)).toThrowError(
      `This share is sealed to committee member ${ids[2]}; the key given is not that member's`,
    );
    // An outsider who rewrites the header to name its own key still cannot open the share.
    const outsider = newMember(9);
    const forged = shares[2]!.sealed.slice();
    forged.set(outsider.publicKey, 12);
    expect(() => openShare(forged, outsider.secretKey)).toThrowError(TamperedShareError);
  });

  it('refuses the same share twice, or two shares with one point', async () => {
    const opened = openAll(await splitDataKey(randomBytes(32), committee, record));
    await expect(combineShares([opened[0]!, opened[1]!, opened[0]!], { threshold: 3 })).rejects.toThrowError(DuplicateShareError);
    await expect(combineShares([opened[0]!, opened[1]!, { ...opened[2]!, x: opened[0]!.x }], { threshold: 3 })).rejects.toThrowError(
      /same point/,
    );
  });

  it('refuses shares of different data keys, records, splits or thresholds, and a wrong released share', async () => {
    const dek = randomBytes(32);
    const a = openAll(await splitDataKey(dek, committee, record));
    const b = openAll(await splitDataKey(randomBytes(32), committee, record));
    const again = openAll(await splitDataKey(dek, committee, record));
    const other = openAll(await splitDataKey(dek, committee, { ...record, version: 2 }));
    const mismatch = (shares: OpenedShare[], re: RegExp, expected = {}) =>
      expect(combineShares(shares, { threshold: 3, ...expected })).rejects.toThrowError(re);
    await mismatch([a[0]!, a[1]!, b[2]!], /different data keys/);
    await mismatch([a[0]!, a[1]!, again[2]!], /different splits/);
    await mismatch([a[0]!, a[1]!, other[2]!], /different records/);
    await mismatch(a.slice(0, 3), /not the one asked for/, { record: { ...record, version: 2 } });
    await mismatch(a.slice(0, 3), /3-of-n split, not 2-of-n/, { threshold: 2 });
    // A member that releases altered y-values is caught by the commitment.
    const lying = { ...a[1]!, y: flip(a[1]!.y, 0) };
    await expect(combineShares([a[0]!, lying, a[2]!], { threshold: 3 })).rejects.toThrowError(ShareMismatchError);
    await expect(combineShares([a[0]!, lying, a[2]!], { threshold: 3 })).rejects.toThrowError(/wrong share/);
  });

  it('validates the committee', async () => {
    const dek = randomBytes(32);
    await expect(splitDataKey(dek, { ...committee, threshold: 0 }, record)).rejects.toThrowError(RangeError);
    await expect(splitDataKey(dek, { ...committee, threshold: 6 }, record)).rejects.toThrowError(/committee size 5/);
    await expect(splitDataKey(dek, { ...committee, threshold: 2, members: [members[0]!, { ...members[1]!, id: ids[0]! }] }, record)).rejects.toThrowError(
      /appears twice/,
    );
    await expect(splitDataKey(dek, { ...committee, threshold: 2, members: [members[0]!, { ...members[0]!, id: ids[1]! }] }, record)).rejects.toThrowError(
      /same key/,
    );
    await expect(splitDataKey(dek.subarray(0, 16), committee, record)).rejects.toThrowError(/32 bytes/);
  });

  it('the errors carry stable codes', () => {
    expect(new CommitteeUnavailableError(1, 3, []).code).toBe('COMMITTEE_UNAVAILABLE');
    expect(new DuplicateShareError('x').code).toBe('SHARE_DUPLICATE');
    expect(new ShareMismatchError('x').code).toBe('SHARE_MISMATCH');
    expect(new StaleShareError(1, 2).code).toBe('SHARE_STALE_EPOCH');
    expect(new TamperedShareError('x').code).toBe('SHARE_TAMPERED');
    expect(new WrongMemberKeyError('m').code).toBe('SHARE_WRONG_MEMBER');
    expect(new WrongMemberKeyError('m')).toBeInstanceOf(ShareError);
  });
});

describe('with the envelope formats', () => {
  it("the patient's sealed key (createKeySealer) opens (createKeyOpener), splits, and the shares recover a key that decrypts the record", async () => {
    const patient = newMember(100);
    const plaintext = new TextEncoder().encode('{"resourceType":"Observation","id":"synthetic-1"}');
    const ctx = { ...record, category: 'labs' };
    const { ciphertext, dek } = encryptRecord({ ...ctx, plaintext });
    const sealedKey = createKeySealer(patient.publicKey)(dek);
    expect(sealedKey.length).toBe(105);
    const own = createKeyOpener(patient.secretKey)(sealedKey);
    const opened = openAll(await splitDataKey(own, committee, record));
    const recovered = await combineShares([opened[4]!, opened[0]!, opened[2]!], { threshold: 3, epoch: 7, record });
    expect(decryptRecord({ ...ctx, ciphertext, dek: recovered })).toEqual(plaintext);
  });

  it("each share's sealed part is the envelope's 105-byte sealed key, bound to the header as associated data", async () => {
    const shares = await splitDataKey(randomBytes(32), committee, record);
    const { headerLength, ...header } = readShareHeader(shares[1]!.sealed);
    const inner = shares[1]!.sealed.subarray(headerLength);
    const ad = new Uint8Array([...new TextEncoder().encode('consentry/share/v1'), ...shares[1]!.sealed.subarray(0, headerLength)]);
    const open = createKeyOpener(members[1]!.secretKey);
    expect(bytesToHex(open(inner, ad))).toBe(bytesToHex(openShare(shares[1]!.sealed, members[1]!.secretKey).y));
    expect(header.memberId).toBe(ids[1]);
    // Without the header, or with another member's header, the same sealed bytes do not open.
    expect(() => open(inner)).toThrowError(DecryptionError);
    const otherHeader = shares[2]!.sealed.subarray(0, readShareHeader(shares[2]!.sealed).headerLength);
    expect(() => open(inner, new Uint8Array([...new TextEncoder().encode('consentry/share/v1'), ...otherHeader]))).toThrowError(DecryptionError);
  });
});

describe('re-sharing when the committee changes', () => {
  // Epoch 8: member 4 leaves, member 5 joins.
  const newMembers = [...members.slice(0, 4), newMember(5)];
  const next: Committee = { epoch: 8, threshold: 3, members: newMembers };
  const nextSecrets = new Map(newMembers.map((m) => [m.id, m.secretKey]));

  it('after re-sharing, the new shares recover the key and the old epoch is refused', async () => {
    const dek = randomBytes(32);
    const old = openAll(await splitDataKey(dek, committee, record));
    const fresh = openAll(await reshareDataKey(dek, next, record), nextSecrets);
    expect(fresh.map((s) => s.memberId)).toEqual(newMembers.map((m) => m.id));
    expect(bytesToHex(await combineShares([fresh[4]!, fresh[1]!, fresh[3]!], { threshold: 3, epoch: 8, record }))).toBe(bytesToHex(dek));
    const stale = await combineShares(old.slice(0, 3), { threshold: 3, epoch: 8, record }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(StaleShareError);
    expect((stale as StaleShareError).message).toMatch(/epoch 7, not the current epoch 8/);
    // Old and new mixed: stale when the epoch is known, a mismatch in any case.
    await expect(combineShares([old[0]!, fresh[1]!, fresh[2]!], { threshold: 3, epoch: 8 })).rejects.toThrowError(StaleShareError);
    await expect(combineShares([fresh[0]!, fresh[1]!, old[2]!], { threshold: 3 })).rejects.toThrowError(/different committee epochs/);
    // The member who left holds nothing of the new epoch.
    const leftOver = await reshareDataKey(dek, next, record);
    expect(leftOver.some((s) => s.memberId === ids[4])).toBe(false);
    for (const s of leftOver) expect(() => openShare(s.sealed, members[4]!.secretKey)).toThrowError(WrongMemberKeyError);
  });

  it('reshareAll re-shares every record with progress, stops on abort, and resumes where it stopped', async () => {
    const patient = newMember(100);
    const seal = createKeySealer(patient.publicKey);
    const deks = Array.from({ length: 7 }, () => randomBytes(32));
    const inputs: ReshareInput[] = deks.map((dek, i) => ({ recordId: `r${i}`, version: 1 + (i % 2), sealedKey: seal(dek) }));
    async function* vault() {
      yield* inputs;
    }
    const stored = new Map<string, ReshareOutput>();
    const controller = new AbortController();
    const progress: number[] = [];
    await expect(
      reshareAll(vault(), createKeyOpener(patient.secretKey), next, {
        signal: controller.signal,
        onProgress: ({ done, last }) => {
          stored.set(`${last.recordId}/${last.version}`, last);
          progress.push(done);
          if (done === 3) controller.abort();
        },
      }),
    ).rejects.toThrowError(/abort/i);
    expect(progress).toEqual([1, 2, 3]);

    const skippedSeen: number[] = [];
    const rest = await reshareAll(inputs, createKeyOpener(patient.secretKey), next, {
      isDone: ({ recordId, version }) => stored.has(`${recordId}/${version}`),
      onProgress: ({ last, skipped }) => {
        stored.set(`${last.recordId}/${last.version}`, last);
        skippedSeen.push(skipped);
      },
    });
    expect(rest.map((r) => r.recordId)).toEqual(['r3', 'r4', 'r5', 'r6']);
    expect(skippedSeen).toEqual([3, 3, 3, 3]);
    expect(stored.size).toBe(7);
    for (const [i, input] of inputs.entries()) {
      const out = stored.get(`${input.recordId}/${input.version}`)!;
      expect(out.epoch).toBe(8);
      const opened = openAll(out.shares, nextSecrets);
      const recovered = await combineShares(opened.slice(2), { threshold: 3, epoch: 8, record: input });
      expect(bytesToHex(recovered), input.recordId).toBe(bytesToHex(deks[i]!));
    }
  });
});

describe('property: random data keys, random committees (1 ≤ k ≤ n ≤ 10)', () => {
  it('k random shares recover the key, k-1 do not, for 60 random (k, n)', async () => {
    const pool = Array.from({ length: 10 }, (_, i) => newMember(i));
    const pairs: string[] = [];
    for (let run = 0; run < 60; run++) {
      const n = 1 + Math.floor(Math.random() * 10);
      const k = 1 + Math.floor(Math.random() * n);
      const chosen = shuffled(pool).slice(0, n);
      const epoch = Math.floor(Math.random() * 2 ** 48); // the chain's epoch is a uint64
      const dek = randomBytes(32);
      const shares = await createDataKeySplitter({ epoch, threshold: k, members: chosen })(dek, record);
      expect(shares).toHaveLength(n);
      const opened = shares.map((s) => openShare(s.sealed, pool.find((m) => m.id === s.memberId)!.secretKey));
      const pick = shuffled(opened);
      const label = `run ${run}: ${k}-of-${n}`;
      expect(bytesToHex(await combineShares(pick.slice(0, k), { threshold: k, epoch })), label).toBe(bytesToHex(dek));
      await expect(combineShares(pick.slice(0, k - 1), { threshold: k, epoch }), label).rejects.toThrowError(CommitteeUnavailableError);
      pairs.push(`${k}/${n}`);
    }
    // The edges are covered whatever the draw.
    for (const [k, n] of [
      [1, 1],
      [1, 10],
      [10, 10],
      [2, 2],
    ] as const) {
      const dek = randomBytes(32);
      const chosen = pool.slice(0, n);
      const opened = (await splitDataKey(dek, { epoch: 1, threshold: k, members: chosen }, record)).map((s, i) => openShare(s.sealed, chosen[i]!.secretKey));
      expect(bytesToHex(await combineShares(shuffled(opened).slice(0, k), { threshold: k })), `${k}-of-${n}`).toBe(bytesToHex(dek));
    }
    expect(pairs).toHaveLength(60);
  });
});
