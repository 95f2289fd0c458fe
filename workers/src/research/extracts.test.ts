// Uploading a sealed study extract (storeExtract), on every vault database the tests run against
// (SQLite, PGlite, and PostgreSQL when TEST_DATABASE_URL is set) with a filesystem blob store: an
// upload that says the truth about itself is stored once (a retry changes nothing) and served by its
// hash; every kind of bad upload is refused in words and stores nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '@consentry/sdk/blobs/fs';
import type { Committee } from '@consentry/sdk/crypto/shares';
import { toBase64 } from '@consentry/sdk/records/versions';
import { sealExtract, type SealedExtract } from '@consentry/sdk/research/seal-extract';
import type { Vault } from '../records/vault.ts';
import { vaultKinds } from '../records/testing/vaults.ts';
import { extractCiphertext, MAX_EXTRACT_BYTES, storeExtract, type ExtractUpload } from './extracts.ts';

const secrets = [0, 1, 2].map(() => randomBytes(32));
const member = (i: number) => `0x${(i + 1).toString(16).padStart(40, '0')}`;
const committee: Committee = { epoch: 3, threshold: 2, members: secrets.map((s, i) => ({ id: member(i), publicKey: x25519.getPublicKey(s) })) };
const extract = { resources: [{ resourceType: 'Patient', id: 'p1', gender: 'female' }] };
const upload = (sealed: SealedExtract, studyId = 7n): ExtractUpload => ({
  studyId: studyId.toString(),
  ciphertext: toBase64(sealed.ciphertext),
  shares: sealed.shares.map((s) => ({ member: s.memberId, sealedShare: toBase64(s.sealed) })),
});
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

for (const kind of vaultKinds()) {
  describe(`extract upload (${kind.name})`, () => {
    let vault: Vault;
    afterAll(async () => {
      await vault?.close();
      await kind.cleanup();
    });

    it('stores a sealed extract once, serves it by hash, and refuses every bad upload in words', async () => {
      vault = await kind.open();
      const dir = mkdtempSync(join(tmpdir(), 'consentry-extracts-'));
      dirs.push(dir);
      const blobs = await createFsBlobStore(dir);
      const open = new Set([7n]);
      const opts = { vault, blobs, committee, studyIsOpen: async (id: bigint) => open.has(id) };
      const sealed = await sealExtract(extract, { committee, studyId: 7n });

      const first = await storeExtract(opts, upload(sealed));
      expect(first).toMatchObject({ extractHash: sealed.extractHash, stored: true });
      expect((await storeExtract(opts, upload(sealed))).stored).toBe(false);
      expect(await extractCiphertext({ vault, blobs }, sealed.extractHash)).toEqual(sealed.ciphertext);
      const shares = await vault.extractSharesFor(member(1), [sealed.extractHash, `0x${'00'.repeat(32)}`]);
      expect([...shares.keys()]).toEqual([sealed.extractHash]);
      expect(shares.get(sealed.extractHash)).toBe(toBase64(sealed.shares[1]!.sealed));
      expect(await vault.extract(sealed.extractHash)).toMatchObject({ studyId: '7', epoch: 3, size: sealed.ciphertext.length });

      const refusal = (body: unknown) => storeExtract(opts, body).then(() => 'stored', (e: { code: string; status: number; message: string }) => e);
      const other = await sealExtract(extract, { committee, studyId: 8n });
      const cases: Array<[string, unknown, string, number]> = [
        ['not an object', 'hello', 'BAD_EXTRACT', 400],
        ['a study id that is not a number', { ...upload(other, 8n), studyId: 'x' }, 'BAD_EXTRACT', 400],
        // The shares were split for study 8; the upload claims study 9.
        ['shares of another study', upload(other, 9n), 'SHARE_MISMATCH', 400],
        // The ciphertext of one extract with the shares of another.
        ['shares of another extract', { ...upload(other, 8n), ciphertext: toBase64(sealed.ciphertext) }, 'SHARE_MISMATCH', 400],
        ['a share missing', { ...upload(other, 8n), shares: upload(other, 8n).shares.slice(0, 2) }, 'SHARES_MISSING', 400],
        ['a share twice', { ...upload(other, 8n), shares: [...upload(other, 8n).shares.slice(0, 2), upload(other, 8n).shares[0]] }, 'DUPLICATE_SHARE', 400],
        ['a stranger as member', { ...upload(other, 8n), shares: [{ ...upload(other, 8n).shares[0]!, member: member(9) }] }, 'NOT_A_MEMBER', 400],
        ['a share filed under another member', { ...upload(other, 8n), shares: [upload(other, 8n).shares[1]!, { ...upload(other, 8n).shares[0]!, member: member(1) }] }, 'DUPLICATE_SHARE', 400],
        ['a study that is not open', upload(other, 8n), 'STUDY_NOT_OPEN', 409],
        ['too large', { ...upload(other, 8n), ciphertext: 'A'.repeat(Math.ceil(MAX_EXTRACT_BYTES / 3) * 4 + 4) }, 'BAD_EXTRACT', 400],
      ];
      for (const [what, body, code, status] of cases) {
        const err = await refusal(body);
        expect(err, what).toMatchObject({ code, status });
        expect((err as { message: string }).message.length, what).toBeGreaterThan(20);
      }
      // Shares split for an older committee epoch.
      const stale = await sealExtract(extract, { committee: { ...committee, epoch: 2 }, studyId: 7n });
      expect(await refusal(upload(stale))).toMatchObject({ code: 'STALE_SHARE', status: 409 });
      expect((await refusal(upload(stale)) as { message: string }).message).toMatch(/epoch 2 .* epoch 3 .*seal the extract again/);
      // Nothing of the refused uploads was stored.
      expect(await vault.extract(other.extractHash)).toBeNull();
      expect(await vault.extract(stale.extractHash)).toBeNull();
      await expect(extractCiphertext({ vault, blobs }, other.extractHash)).rejects.toMatchObject({ code: 'EXTRACT_NOT_FOUND', status: 404 });
      await expect(extractCiphertext({ vault, blobs }, 'nonsense')).rejects.toMatchObject({ code: 'BAD_EXTRACT_HASH', status: 400 });
    }, 60_000);
  });
}
