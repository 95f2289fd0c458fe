/**
 * Eligibility in the patient's browser: the zk identity (from the patient's own key), the
 * credential (asked of the issuer directly, kept sealed in this browser), and the proof, made in a
 * Web Worker (zk.worker.ts) so snarkjs never blocks the page and is loaded only when a proof is made.
 * The web server sees none of it: records are decrypted here and go straight to the issuer.
 */
import { encodeFunctionData, type Address, type Hex, type LocalAccount, type PublicClient } from 'viem';
import { consentTokenAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import type { Committee } from '@consentry/sdk/crypto/shares';
import { buildExtract, type RemovedElement } from '@consentry/sdk/research/extract';
import { relay, signForwardRequest } from '@consentry/sdk/research/forwarder';
import { sealExtract, type SealedExtract } from '@consentry/sdk/research/seal-extract';
import { eligibilityProofArgs, type EnrollmentProof } from '@consentry/sdk/zk/chain';
import { ConsentryError } from '@consentry/sdk/errors';
import type { EncryptionKeyPair } from '@consentry/sdk/keys';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { fromBase64, noteKey, openNote, sealNote, toBase64 } from '@consentry/sdk/records/versions';
import { parseCredential, verifyCredential, type Credential } from '@consentry/sdk/zk/credential';
import { identityCommitment, identitySecretFromSeed } from '@consentry/sdk/zk/identity';
import { identitySeedFromEncryptionKey } from '@consentry/sdk/zk/study-account';
import { decryptVersion, fetchRecords, type ApiVersion } from './records.client.ts';
import { identityRootOf } from './keyring.ts';
import {
  bundleFromWire,
  type FromWorker,
  type ProofArtifacts,
  type ProofBundleLike,
  type ProofProgress,
  type ProofRequestWire,
  type ProofTimings,
  type ToWorker,
} from './zk.protocol.ts';

export class EligibilityClientError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'EligibilityClientError';
  }
}

// ---------------------------------------------------------------------------------------------
// Identity

export interface ZkIdentity {
  /** Never leaves this browser (page and its worker). */
  secret: bigint;
  /** Poseidon1(secret): what the issuer signs. */
  commitment: bigint;
}

const identities = new WeakMap<Uint8Array, ZkIdentity>();

/**
 * The patient's zk identity, from their account's first encryption key (itself from a wallet's
 * signature): the current key until the account rotates it, then the root its keyring opens
 * (keyring.ts, decision 031). So the same account has the same identity on every device and after a
 * recovery, and nothing new must be kept.
 */
export function zkIdentity(keys: EncryptionKeyPair): ZkIdentity {
  const root = identityRootOf(keys);
  let id = identities.get(root);
  if (!id) {
    const secret = identitySecretFromSeed(identitySeedFromEncryptionKey(root));
    id = { secret, commitment: identityCommitment(secret) };
    identities.set(root, id);
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// The credential, kept in this browser

/** Where a patient's credential is kept (localStorage), per chain and wallet. */
export const credentialStorageKey = (chainId: number, patient: Address) => `consentry.zk.credential.v1.${chainId}.${patient.toLowerCase()}`;

/** Something with localStorage's shape (tests pass a Map-backed one). */
export type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const browserStore = (): KeyValueStore | null => (typeof localStorage === 'undefined' ? null : localStorage);

/** Keeps the credential sealed under the patient's key: the attributes are health data, even at rest. */
export function saveCredential(chainId: number, patient: Address, keys: EncryptionKeyPair, credential: Credential, store = browserStore()): void {
  store?.setItem(credentialStorageKey(chainId, patient), sealNote(noteKey(keys.secretKey), JSON.stringify(credential)));
}

/** The kept credential, or null when there is none or it is not this patient's (it does not open or parse). */
export function loadCredential(chainId: number, patient: Address, keys: EncryptionKeyPair, store = browserStore()): Credential | null {
  const sealed = store?.getItem(credentialStorageKey(chainId, patient));
  if (!sealed) return null;
  try {
    const credential = parseCredential(JSON.parse(openNote(noteKey(keys.secretKey), sealed) ?? 'null'));
    return credential.identityCommitment === zkIdentity(keys).commitment.toString() ? credential : null;
  } catch {
    return null;
  }
}

export function forgetCredential(chainId: number, patient: Address, store = browserStore()): void {
  store?.removeItem(credentialStorageKey(chainId, patient));
}

/** The patient's current records, decrypted here (erased ones are gone: their keys were destroyed). */
export async function myResources(keys: EncryptionKeyPair): Promise<FhirResource[]> {
  const data = await fetchRecords();
  const erased = new Set(data.erasures.map((e) => e.recordId));
  const latest = new Map<string, ApiVersion>();
  for (const v of data.versions) if (!erased.has(v.recordId) && (latest.get(v.recordId)?.version ?? 0) < v.version) latest.set(v.recordId, v);
  return Promise.all([...latest.values()].map((v) => decryptVersion(v, keys)));
}

const origin = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
};

/**
 * Asks the issuer for a credential: this browser sends the decrypted records and the identity
 * commitment straight to ISSUER_URL (never through the web server), and checks what comes back:
 * a well-formed credential, for this identity, whose signature verifies under the issuer's key.
 */
export async function requestCredential(issuerUrl: string, resources: FhirResource[], identity: ZkIdentity, fetcher: typeof fetch = fetch): Promise<Credential> {
  if (resources.length === 0) throw new EligibilityClientError('NO_RECORDS', 'You have no records to base a credential on: upload your records first');
  let res: Response;
  try {
    res = await fetcher(`${issuerUrl}/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resources, identityCommitment: identity.commitment.toString() }),
    });
  } catch (cause) {
    throw new EligibilityClientError('ISSUER_UNREACHABLE', `Cannot reach the credential issuer at ${origin(issuerUrl)}`, { cause });
  }
  const body = (await res.json().catch(() => null)) as { credential?: unknown; error?: { code?: string; message?: string } } | null;
  if (!res.ok || !body?.credential) {
    const message = body?.error?.message ?? `it answered HTTP ${res.status}`;
    throw new EligibilityClientError(body?.error?.code ?? `ISSUER_HTTP_${res.status}`, `The issuer did not issue a credential: ${message}`);
  }
  let credential: Credential;
  try {
    credential = parseCredential(body.credential);
  } catch (cause) {
    throw new EligibilityClientError('CREDENTIAL_INVALID', `The issuer answered something that is not a credential (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  if (credential.identityCommitment !== identity.commitment.toString()) {
    throw new EligibilityClientError('CREDENTIAL_NOT_YOURS', 'The issuer signed a credential for another identity; it cannot be used');
  }
  if (!verifyCredential(credential)) throw new EligibilityClientError('CREDENTIAL_BAD_SIGNATURE', 'The credential\'s signature does not verify under the issuer\'s key');
  return credential;
}

// ---------------------------------------------------------------------------------------------
// Proving, in the worker

/**
 * The proof's public time: the chain's, since the contract compares it with block time (a window of
 * an hour before to 5 minutes after). A credential stamped by a clock a little ahead of the chain's
 * would not yet be "issued" at chain time; then its issue time is used (still inside the window).
 */
export function proofTime(chainNow: number, credential: Pick<Credential, 'issuedAt'>): number {
  const ahead = credential.issuedAt - chainNow;
  return ahead > 0 && ahead <= 240 ? credential.issuedAt : chainNow;
}

interface Pending {
  resolve: (r: { bundle: ProofBundleLike; timings: ProofTimings }) => void;
  reject: (e: Error) => void;
  onProgress: ((p: ProofProgress) => void) | undefined;
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

function proverWorker(): Worker {
  if (worker) return worker;
  // Vite bundles the worker (and snarkjs with it) as its own chunk, fetched at the first proof.
  const w = new Worker(new URL('./zk.worker.ts', import.meta.url), { type: 'module', name: 'consentry-prover' });
  w.addEventListener('message', (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    const p = pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') p.onProgress?.(m.progress);
    else {
      pending.delete(m.id);
      if (m.type === 'proved') p.resolve({ bundle: bundleFromWire(m.bundle), timings: m.timings });
      else p.reject(new EligibilityClientError(m.code, m.message));
    }
  });
  w.addEventListener('error', (e) => {
    // The worker could not load or crashed: every waiting proof fails, the next one starts afresh.
    const err = new EligibilityClientError('ZK_WORKER_FAILED', `The prover stopped: ${e.message || 'it could not be loaded'}`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    w.terminate();
    if (worker === w) worker = undefined;
  });
  worker = w;
  return w;
}

/** Proves in the worker; progress (stage, bytes, elapsed ms) as it goes. The worker stays for the next proof (warm). */
export function proveInBrowser(
  request: ProofRequestWire,
  artifacts: ProofArtifacts,
  onProgress?: (p: ProofProgress) => void,
): Promise<{ bundle: ProofBundleLike; timings: ProofTimings }> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject, onProgress });
    const message: ToWorker = { type: 'prove', id, request, artifacts };
    proverWorker().postMessage(message);
  });
}

// ---------------------------------------------------------------------------------------------
// The study extract, built and sealed in this browser

export interface PreparedExtract extends SealedExtract {
  /** How many resources of the wanted categories the extract holds. */
  resourceCount: number;
  /** What Safe Harbor took out, by place (nothing of the values themselves). */
  removed: RemovedElement[];
}

/**
 * The de-identified extract of the study's categories from the patient's decrypted records, sealed
 * to the release committee for this study: only the ciphertext's hash goes on chain at enrolment.
 */
export async function prepareExtract(
  resources: readonly FhirResource[],
  { studyId, categories, committee, now }: { studyId: bigint; categories: bigint; committee: Committee; now?: Date },
): Promise<PreparedExtract> {
  if (committee.members.length === 0 || committee.threshold === 0) {
    throw new EligibilityClientError('COMMITTEE_EMPTY', 'The release committee has no members yet, so your extract could not be sealed to anyone');
  }
  const extract = buildExtract(resources, { categories, ...(now ? { now } : {}) });
  const sealed = await sealExtract(extract, { committee, studyId });
  return { ...sealed, resourceCount: extract.resources.length, removed: extract.removed };
}

/**
 * Uploads a sealed extract before enrolment (POST /api/extracts, no session: the upload must not tie
 * the extract to the signed-in patient). Only ciphertext and shares sealed to the committee leave
 * the browser. Resolves once the server holds it; a refusal comes back in the server's words, and
 * the enrolment is then not sent (a registered hash must name bytes the committee holds).
 */
export async function uploadSealedExtract(studyId: bigint, sealed: Pick<SealedExtract, 'ciphertext' | 'shares' | 'extractHash'>, fetchImpl: typeof fetch = fetch): Promise<{ stored: boolean }> {
  const body = { studyId: studyId.toString(), ciphertext: toBase64(sealed.ciphertext), shares: sealed.shares.map((s) => ({ member: s.memberId, sealedShare: toBase64(s.sealed) })) };
  let res: Response;
  try {
    res = await fetchImpl('/api/extracts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    throw new EligibilityClientError('EXTRACT_UPLOAD_FAILED', 'Your sealed extract could not be sent to the server (is it running?); nothing was enrolled', { cause: err });
  }
  const answer = (await res.json().catch(() => null)) as { extractHash?: string; stored?: boolean; error?: { code: string; message: string } } | null;
  if (!res.ok || !answer || answer.error) {
    throw new EligibilityClientError(answer?.error?.code ?? 'EXTRACT_UPLOAD_FAILED', `The server refused your sealed extract: ${answer?.error?.message ?? `HTTP ${res.status}`}; nothing was enrolled`);
  }
  if (answer.extractHash !== sealed.extractHash) throw new EligibilityClientError('EXTRACT_UPLOAD_FAILED', `The server filed your extract as ${answer.extractHash}, not ${sealed.extractHash}; nothing was enrolled`);
  return { stored: answer.stored === true };
}

// ---------------------------------------------------------------------------------------------
// Gasless: the per-study address signs, the relayer pays

/** Gas the forwarder gives an enrolment (572k measured through the relayer, decision 024). */
export const ENROLL_GAS = 1_000_000n;
/** Gas the forwarder gives a revocation (98k measured with the market's hook, decision 023). */
export const REVOKE_GAS = 300_000n;
/** How long a signed request stays valid (the relayer sends it at once). */
const REQUEST_TTL_SECONDS = 600;

export interface RelayContext {
  client: PublicClient;
  forwarder: Address;
  relayerUrl: string;
  /** The chain's time now (unix seconds): the request's deadline counts from it. */
  chainNow: number;
  fetch?: typeof fetch;
}

async function relayCall(account: LocalAccount, ctx: RelayContext, to: Address, data: Hex, gas: bigint): Promise<{ hash: Hex }> {
  const request = await signForwardRequest(account, { client: ctx.client, address: ctx.forwarder }, { to, data, gas, deadline: ctx.chainNow + REQUEST_TTL_SECONDS });
  const sent = await relay(ctx.relayerUrl, request, ctx.fetch ? { fetch: ctx.fetch } : {});
  if (sent.status !== 'success') {
    throw new EligibilityClientError('RELAYED_CALL_REVERTED', `The relayer sent your request (transaction ${sent.hash}) but the chain refused it`);
  }
  return { hash: sent.hash };
}

/** Enrols `account` (the per-study address) through the relayer: StudyRegistry.enroll(studyId, proof, extractHash). */
export function relayEnrolment(
  account: LocalAccount,
  ctx: RelayContext & { studyRegistry: Address },
  studyId: bigint,
  bundle: EnrollmentProof,
  extractHash: Hex,
): Promise<{ hash: Hex }> {
  const data = encodeFunctionData({ abi: studyRegistryAbi, functionName: 'enroll', args: [studyId, eligibilityProofArgs(bundle), extractHash] });
  return relayCall(account, ctx, ctx.studyRegistry, data, ENROLL_GAS);
}

/** Revokes `account`'s consent to the study through the relayer: ConsentToken.revoke(studyId). */
export function relayRevocation(account: LocalAccount, ctx: RelayContext & { consentToken: Address }, studyId: bigint): Promise<{ hash: Hex }> {
  const data = encodeFunctionData({ abi: consentTokenAbi, functionName: 'revoke', args: [studyId] });
  return relayCall(account, ctx, ctx.consentToken, data, REVOKE_GAS);
}
