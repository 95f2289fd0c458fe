/**
 * Key rotation of the patient's own data-key copies (browser-safe; decision 031). Every record
 * version keeps its data key sealed to the patient's encryption key (its `sealedKey`). Rotating opens
 * each with an old secret and seals it to the new public key, in batches the caller saves (the vault's
 * POST /api/records/sealed-keys), reporting progress after each batch.
 *
 * Resumable by construction: a version whose sealed key already opens with the new key is skipped, so
 * running it again after a crash, a closed tab or a refused batch redoes only what is left. Nothing is
 * lost on the way: a version is saved only with a sealed key that was just checked to open with the new
 * key, and a version no old key opens is reported, never overwritten.
 */
import { createKeyOpener, createKeySealer, DecryptionError } from '../crypto/envelope.ts';
import { fromBase64, toBase64 } from '../records/versions.ts';
import type { EncryptionKeyPair } from '../keys.ts';
import { ConsentryError } from '../errors.ts';

export interface SealedVersion {
  recordId: string;
  version: number;
  /** Base64 of the 105-byte sealed data key. */
  sealedKey: string;
}

export interface RotationProgress {
  /** Versions handled so far (resealed + already done + unopenable). */
  done: number;
  total: number;
  resealed: number;
  alreadyRotated: number;
}

export interface RotationResult extends RotationProgress {
  /** Versions that no given key opens (left as they were). */
  unopenable: { recordId: string; version: number }[];
}

export class RotationError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'RotationError';
  }
}

export async function resealVersions(input: {
  versions: readonly SealedVersion[];
  /** Every earlier secret the versions may be sealed to (newest first is fastest). */
  oldSecretKeys: readonly Uint8Array[];
  newKeyPair: EncryptionKeyPair;
  save: (batch: SealedVersion[]) => Promise<void>;
  batchSize?: number;
  onProgress?: (p: RotationProgress) => void;
  signal?: AbortSignal;
}): Promise<RotationResult> {
  const { versions, oldSecretKeys, newKeyPair, save, batchSize = 100, onProgress, signal } = input;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 500) throw new RangeError('batchSize must be from 1 to 500');
  const openNew = createKeyOpener(newKeyPair.secretKey);
  const openers = oldSecretKeys.map((k) => createKeyOpener(k));
  const seal = createKeySealer(newKeyPair.publicKey);
  const progress: RotationProgress = { done: 0, total: versions.length, resealed: 0, alreadyRotated: 0 };
  const unopenable: RotationResult['unopenable'] = [];
  const tryOpen = (open: (s: Uint8Array) => Uint8Array, sealed: Uint8Array): Uint8Array | undefined => {
    try {
      return open(sealed);
    } catch (err) {
      if (err instanceof DecryptionError) return undefined;
      throw err;
    }
  };
  for (let i = 0; i < versions.length; i += batchSize) {
    if (signal?.aborted) throw new RotationError('ROTATION_ABORTED', `Rotation stopped after ${progress.done} of ${progress.total} versions; run it again to go on`);
    const batch: SealedVersion[] = [];
    for (const v of versions.slice(i, i + batchSize)) {
      const sealed = fromBase64(v.sealedKey);
      const already = tryOpen(openNew, sealed);
      if (already) {
        already.fill(0);
        progress.alreadyRotated++;
        continue;
      }
      let dek: Uint8Array | undefined;
      for (const open of openers) if ((dek = tryOpen(open, sealed))) break;
      if (!dek) {
        unopenable.push({ recordId: v.recordId, version: v.version });
        continue;
      }
      const resealed = seal(dek);
      const check = openNew(resealed);
      const same = check.every((b, j) => b === dek![j]);
      dek.fill(0);
      check.fill(0);
      if (!same) throw new RotationError('ROTATION_SELF_CHECK', `Record ${v.recordId} version ${v.version}: the resealed key did not open to the same data key`);
      batch.push({ recordId: v.recordId, version: v.version, sealedKey: toBase64(resealed) });
    }
    if (batch.length) await save(batch);
    progress.resealed += batch.length;
    progress.done = Math.min(versions.length, i + batchSize);
    onProgress?.({ ...progress });
  }
  if (versions.length === 0) onProgress?.({ ...progress });
  return { ...progress, unopenable };
}
