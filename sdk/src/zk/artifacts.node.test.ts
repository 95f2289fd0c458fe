import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactsMissingError, CIRCUITS_BUILD_DIR, nodeArtifacts } from './artifacts.node.ts';

describe('nodeArtifacts', () => {
  it('points at the built circuit and parses the verification key', () => {
    const a = nodeArtifacts();
    expect(a.wasm).toBe(join(CIRCUITS_BUILD_DIR, 'eligibility_js', 'eligibility.wasm'));
    expect(a.zkey).toBe(join(CIRCUITS_BUILD_DIR, 'eligibility.zkey'));
    expect(a.verificationKey).toMatchObject({ protocol: 'groth16', nPublic: 6 });
  });

  it('says how to build them when they are missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'consentry-zk-empty-'));
    let err: unknown;
    try {
      nodeArtifacts(empty);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArtifactsMissingError);
    expect((err as ArtifactsMissingError).code).toBe('ZK_ARTIFACTS_MISSING');
    expect((err as Error).message).toMatch(/run `npm run circuits:setup`/);
    expect((err as Error).message).toMatch(/eligibility\.zkey/);
  });
});
