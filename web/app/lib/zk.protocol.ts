/**
 * What the page and the proving worker (zk.worker.ts) say to each other, and how progress reads in
 * words. Messages are structured-cloned, so big integers travel as decimal strings, as in the
 * credential itself. Browser-safe and free of snarkjs: both the page and the worker import it.
 */
import type { Address } from 'viem';
import type { Credential } from '@consentry/sdk/zk/credential';
import type { Criteria } from '@consentry/sdk/zk/types';
import type { EligibilityProofBundle } from '@consentry/sdk/zk/prove';

/** One proving file: where to fetch it (a versioned URL) and how big it is. */
export interface ArtifactRef {
  url: string;
  bytes: number;
}

export interface ProofArtifacts {
  wasm: ArtifactRef;
  zkey: ArtifactRef;
}

/** Everything the prover needs, as plain JSON. */
export interface ProofRequestWire {
  credential: Credential;
  /** The identity secret, decimal. Stays in this browser: page → worker only. */
  secret: string;
  criteria: Criteria;
  studyId: string;
  recipient: Address;
  /** The issuers tree's leaves in insertion order, decimal. */
  issuerLeaves: string[];
  /** The proof's public time, unix seconds. */
  time: number;
}

/** The proof and its public signals, decimal (EligibilityProofBundle on the wire). */
export interface ProofBundleWire {
  issuersRoot: string;
  criteriaHash: string;
  studyId: string;
  time: string;
  nullifier: string;
  recipient: Address;
  /** 8 numbers in the order the Solidity verifier takes them. */
  proof: string[];
}

export type ProofStage = 'artifacts' | 'witness' | 'proving' | 'done';

export interface ProofProgress {
  stage: ProofStage;
  /** Since the worker took the request. */
  elapsedMs: number;
  /** While loading the proving files: bytes so far and in all (from the cache: all at once). */
  loadedBytes?: number;
  totalBytes?: number;
  /** Whether the files came from this browser's cache (memory or Cache API) instead of the network. */
  cached?: boolean;
}

export interface ProofTimings {
  /** Loading the proving files (0 when they were in memory already). */
  artifactsMs: number;
  /** Witness and Groth16 proof together (what the prover library reports as one step, if it does). */
  proveMs: number;
  totalMs: number;
  /** Where the files came from: 'memory' (this worker had them), 'cache' (Cache API) or 'network'. */
  source: 'memory' | 'cache' | 'network';
}

export type ToWorker = { type: 'prove'; id: number; request: ProofRequestWire; artifacts: ProofArtifacts };

export type FromWorker =
  | { type: 'progress'; id: number; progress: ProofProgress }
  | { type: 'proved'; id: number; bundle: ProofBundleWire; timings: ProofTimings }
  | { type: 'failed'; id: number; code: string; message: string };

export type ProofBundleLike = EligibilityProofBundle;

export function bundleToWire(b: ProofBundleLike): ProofBundleWire {
  return {
    issuersRoot: b.issuersRoot.toString(),
    criteriaHash: b.criteriaHash.toString(),
    studyId: b.studyId.toString(),
    time: b.time.toString(),
    nullifier: b.nullifier.toString(),
    recipient: b.recipient,
    proof: b.proof.map(String),
  };
}

const decimal = (s: string, what: string): bigint => {
  if (!/^(0|[1-9][0-9]{0,77})$/.test(s)) throw new TypeError(`The prover answered a malformed ${what}`);
  return BigInt(s);
};

export function bundleFromWire(w: ProofBundleWire): ProofBundleLike {
  if (!Array.isArray(w.proof) || w.proof.length !== 8) throw new TypeError('The prover answered a proof that is not 8 numbers');
  return {
    issuersRoot: decimal(w.issuersRoot, 'issuers root'),
    criteriaHash: decimal(w.criteriaHash, 'criteria hash'),
    studyId: decimal(w.studyId, 'study id'),
    time: decimal(w.time, 'time'),
    nullifier: decimal(w.nullifier, 'nullifier'),
    recipient: w.recipient,
    proof: w.proof.map((p, i) => decimal(p, `proof element ${i}`)),
  };
}

const mb = (bytes: number) => (bytes / 1_000_000).toFixed(1);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The stage in words, for the status line under the progress bar. */
export function describeProgress(p: ProofProgress): string {
  switch (p.stage) {
    case 'artifacts':
      if (p.cached) return `Proving files loaded from this browser's cache (${seconds(p.elapsedMs)})`;
      return p.totalBytes
        ? `Loading the proving files: ${mb(p.loadedBytes ?? 0)} of ${mb(p.totalBytes)} MB (${seconds(p.elapsedMs)})`
        : `Loading the proving files (${seconds(p.elapsedMs)})`;
    case 'witness':
      return `Computing the witness from your credential (${seconds(p.elapsedMs)})`;
    case 'proving':
      return `Proving: this takes a few seconds (${seconds(p.elapsedMs)})`;
    case 'done':
      return `Proof ready in ${seconds(p.elapsedMs)}`;
  }
}

/**
 * How full the progress bar is (0–1): loading the files fills the first 40 % by bytes, the witness
 * reaches 50 %, proving 60 % (Groth16 gives no progress of its own), done is 100 %.
 */
export function progressFraction(p: ProofProgress): number {
  switch (p.stage) {
    case 'artifacts':
      return p.totalBytes ? 0.4 * Math.min(1, (p.loadedBytes ?? 0) / p.totalBytes) : 0.05;
    case 'witness':
      return 0.5;
    case 'proving':
      return 0.6;
    case 'done':
      return 1;
  }
}
