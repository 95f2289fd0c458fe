import { describe, expect, it } from 'vitest';
import { bundleFromWire, bundleToWire, describeProgress, progressFraction, type ProofBundleLike } from './zk.protocol.ts';

const bundle: ProofBundleLike = {
  issuersRoot: 2n ** 253n + 7n,
  criteriaHash: 12345678901234567890n,
  studyId: 1n,
  time: 1767225600n,
  nullifier: 0n,
  recipient: '0x00000000000000000000000000000000000A11cE',
  proof: [1n, 2n, 3n, 4n, 5n, 6n, 7n, 2n ** 254n - 1n],
};

describe('the worker protocol', () => {
  it('carries a proof bundle as decimal strings and back, exactly', () => {
    const wire = bundleToWire(bundle);
    expect(wire.issuersRoot).toBe((2n ** 253n + 7n).toString());
    expect(structuredClone(wire)).toEqual(wire);
    expect(bundleFromWire(structuredClone(wire))).toEqual(bundle);
  });

  it('refuses a malformed answer instead of sending it to the chain', () => {
    expect(() => bundleFromWire({ ...bundleToWire(bundle), proof: ['1', '2'] })).toThrow('The prover answered a proof that is not 8 numbers');
    expect(() => bundleFromWire({ ...bundleToWire(bundle), nullifier: '-1' })).toThrow('The prover answered a malformed nullifier');
    expect(() => bundleFromWire({ ...bundleToWire(bundle), time: '0x10' })).toThrow('malformed time');
  });

  it('says each stage in words with the time so far, and fills the bar in order', () => {
    const stages = [
      { stage: 'artifacts', elapsedMs: 1200, loadedBytes: 3_150_000, totalBytes: 12_400_000 },
      { stage: 'witness', elapsedMs: 4000 },
      { stage: 'proving', elapsedMs: 4500 },
      { stage: 'done', elapsedMs: 7250 },
    ] as const;
    expect(stages.map(describeProgress)).toEqual([
      'Loading the proving files: 3.1 of 12.4 MB (1.2 s)',
      'Computing the witness from your credential (4.0 s)',
      'Proving: this takes a few seconds (4.5 s)',
      'Proof ready in 7.3 s',
    ]);
    expect(describeProgress({ stage: 'artifacts', elapsedMs: 80, cached: true })).toBe("Proving files loaded from this browser's cache (0.1 s)");
    const fractions = stages.map(progressFraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    expect(progressFraction({ stage: 'artifacts', elapsedMs: 0, loadedBytes: 6_200_000, totalBytes: 12_400_000 })).toBeCloseTo(0.2);
  });
});
