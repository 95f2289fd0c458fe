/**
 * Releases through the committee (browser-safe). A requester (a clinician) signs one EIP-712
 * ReleaseRequest per read: which record version, the gateways it asks, a fresh nonce and a near
 * expiry (no replay: each gateway answers a nonce once). One signature, so a browser wallet asks
 * once per read, not once per gateway. Each gateway checks the chain, logs the release, and answers
 * with its member's share re-sealed to the requester's X25519 key; any k shares recover the record's
 * data key.
 */
import { bytesToHex, getAddress, hexToBytes, type Address, type Hex, type PublicClient } from 'viem';
import { releaseCommitteeAbi } from '../abi/generated.ts';
import { createKeyOpener } from '../crypto/envelope.ts';
import {
  combineShares,
  CommitteeUnavailableError,
  readShareHeader,
  type Committee,
  type OpenedShare,
} from '../crypto/shares.ts';
import { ConsentryError } from '../errors.ts';
import { fromBase64 } from '../records/versions.ts';

/** How long a signed request stays valid: short, so a leaked one is soon useless. */
export const RELEASE_REQUEST_TTL_S = 120;

export interface ReleaseRequest {
  requester: Address;
  /** The requester's X25519 public key (the share comes back sealed to it). */
  requesterKey: Hex;
  patient: Address;
  recordId: Hex;
  version: number;
  /** The committee members (gateways) this request is for; each refuses a request not naming it. */
  gateways: Address[];
  nonce: Hex;
  /** Unix seconds. */
  expiresAt: number;
}

export function releaseTypedData(chainId: number, verifyingContract: Address, request: ReleaseRequest) {
  return {
    domain: { name: 'Consentry Release', version: '2', chainId, verifyingContract },
    types: {
      ReleaseRequest: [
        { name: 'requester', type: 'address' },
        { name: 'requesterKey', type: 'bytes32' },
        { name: 'patient', type: 'address' },
        { name: 'recordId', type: 'bytes32' },
        { name: 'version', type: 'uint32' },
        { name: 'gateways', type: 'address[]' },
        { name: 'nonce', type: 'bytes32' },
        { name: 'expiresAt', type: 'uint64' },
      ],
    },
    primaryType: 'ReleaseRequest',
    message: { ...request, expiresAt: BigInt(request.expiresAt) },
  } as const;
}

const RESPONSE_AD_DOMAIN = new TextEncoder().encode('consentry/release/v1');

/** What binds a re-sealed share to its request: the share's header, the requester and the nonce. */
export function releaseAssociatedData(shareHeader: Uint8Array, requester: Address, nonce: Hex): Uint8Array {
  const who = hexToBytes(requester);
  const n = hexToBytes(nonce);
  const out = new Uint8Array(RESPONSE_AD_DOMAIN.length + shareHeader.length + who.length + n.length);
  out.set(RESPONSE_AD_DOMAIN, 0);
  out.set(shareHeader, RESPONSE_AD_DOMAIN.length);
  out.set(who, RESPONSE_AD_DOMAIN.length + shareHeader.length);
  out.set(n, RESPONSE_AD_DOMAIN.length + shareHeader.length + who.length);
  return out;
}

/** A gateway's answer to a release. */
export interface ReleaseResponse {
  /** The member's sealed share as stored (only the member can open it; its header says what it is). */
  share: string;
  /** The Shamir y-values, sealed to the requester with releaseAssociatedData as AD. */
  sealedY: string;
  category: string;
  cid: string;
  /** The record version's ciphertext, base64. */
  ciphertext: string;
  /** The gateway's log entry id for this release. */
  logId: string;
}

/** The committee as ReleaseCommittee reports it now. */
export async function readCommittee(client: PublicClient, address: Address): Promise<Committee> {
  const [epoch, threshold, members] = await client.readContract({ address, abi: releaseCommitteeAbi, functionName: 'committee' });
  return {
    epoch: Number(epoch),
    threshold: Number(threshold),
    members: members.map((m) => ({ id: m.account.toLowerCase(), publicKey: hexToBytes(m.encryptionKey) })),
  };
}

export interface GatewayRef {
  url: string;
  member: Address;
}

/**
 * Each gateway's committee member, from its GET /health (trailing slashes dropped). A gateway that
 * does not answer, or answers no member, is set aside in `down` with why, in words.
 */
export async function probeGateways(urls: readonly string[], fetchImpl: typeof fetch = fetch): Promise<{ refs: GatewayRef[]; down: string[] }> {
  const answers = await Promise.all(
    urls.map(async (raw): Promise<GatewayRef | string> => {
      const url = raw.replace(/\/+$/, '');
      try {
        const res = await fetchImpl(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
        const body = (await res.json().catch(() => null)) as { member?: unknown } | null;
        if (!res.ok || typeof body?.member !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(body.member)) return `${url}: no member in its /health (HTTP ${res.status})`;
        return { url, member: getAddress(body.member) };
      } catch (err) {
        return `${url}: ${err instanceof Error && err.name === 'TimeoutError' ? 'no answer in time' : 'not reachable'}`;
      }
    }),
  );
  return { refs: answers.filter((a): a is GatewayRef => typeof a !== 'string'), down: answers.filter((a): a is string => typeof a === 'string') };
}

export interface FetchKeyOptions {
  gateways: readonly GatewayRef[];
  committee: Committee;
  chainId: number;
  /** The AccessGrants contract: the domain's verifying contract. */
  verifyingContract: Address;
  requester: Address;
  requesterKeys: { publicKeyHex: Hex; secretKey: Uint8Array };
  /** Signs typed data as the requester (a wallet, or a local account). */
  sign: (typedData: ReturnType<typeof releaseTypedData>) => Promise<Hex>;
  patient: Address;
  recordId: Hex;
  version: number;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export interface FetchedKey {
  dek: Uint8Array;
  ciphertext: Uint8Array;
  category: string;
  /** Members whose shares were used. */
  releasedBy: string[];
  /** Members that refused or did not answer, with the reason in words. */
  failures: Array<{ member: string; reason: string }>;
}

/** A gateway refused a release; `code` says why (NO_GRANT, EXPIRED, REPLAYED, BAD_SIGNATURE …). */
export class ReleaseRefusedError extends ConsentryError {
  constructor(
    code: string,
    message: string,
    readonly failures: Array<{ member: string; reason: string; code?: string }>,
  ) {
    super(code, message);
    this.name = 'ReleaseRefusedError';
  }
}

const randomNonce = (): Hex => bytesToHex(crypto.getRandomValues(new Uint8Array(32)));

/** Asks every gateway at once and combines the first k shares; fails in words when fewer than k answer. */
export async function fetchDataKey(opts: FetchKeyOptions): Promise<FetchedKey> {
  const doFetch = opts.fetchImpl ?? fetch;
  const open = createKeyOpener(opts.requesterKeys.secretKey);
  const failures: Array<{ member: string; reason: string; code?: string }> = [];
  const opened: Array<{ share: OpenedShare; response: ReleaseResponse }> = [];
  const request: ReleaseRequest = {
    requester: opts.requester,
    requesterKey: opts.requesterKeys.publicKeyHex,
    patient: opts.patient,
    recordId: opts.recordId,
    version: opts.version,
    gateways: opts.gateways.map((g) => g.member),
    nonce: randomNonce(),
    expiresAt: Math.floor(Date.now() / 1000) + RELEASE_REQUEST_TTL_S,
  };
  const signature = await opts.sign(releaseTypedData(opts.chainId, opts.verifyingContract, request));
  await Promise.all(
    opts.gateways.map(async (g) => {
      const member = g.member.toLowerCase();
      try {
        const res = await doFetch(`${g.url}/release`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ request, signature }),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        const body = (await res.json().catch(() => null)) as (ReleaseResponse & { error?: { code: string; message: string } }) | null;
        if (!res.ok || !body || body.error) {
          failures.push({ member, reason: body?.error?.message ?? `HTTP ${res.status}`, ...(body?.error?.code ? { code: body.error.code } : {}) });
          return;
        }
        const sealedShare = fromBase64(body.share);
        const { headerLength, ...header } = readShareHeader(sealedShare);
        if (header.memberId !== member) throw new Error(`answered with member ${header.memberId}'s share`);
        const y = open(fromBase64(body.sealedY), releaseAssociatedData(sealedShare.subarray(0, headerLength), opts.requester, request.nonce));
        opened.push({ share: { ...header, y }, response: body });
      } catch (err) {
        failures.push({ member, reason: err instanceof Error ? `${err.name === 'TimeoutError' ? 'no answer in time' : err.message}` : String(err) });
      }
    }),
  );
  const k = opts.committee.threshold;
  if (opened.length < k) {
    // Every gateway said the same "no": that is the answer, not an outage.
    const codes = new Set(failures.map((f) => f.code).filter(Boolean));
    const detail = failures.map((f) => `${f.member}: ${f.reason}`).join('; ');
    if (codes.size === 1 && failures.every((f) => f.code)) {
      throw new ReleaseRefusedError([...codes][0]!, `The committee refused the release: ${failures[0]!.reason}`, failures);
    }
    const err = new CommitteeUnavailableError(opened.length, k, failures.map((f) => f.member));
    err.message += ` (${detail})`;
    throw err;
  }
  const dek = await combineShares(
    opened.map((o) => o.share),
    { threshold: k, epoch: opts.committee.epoch, record: { recordId: opts.recordId, version: opts.version }, members: opts.committee.members.map((m) => m.id) },
  );
  const first = opened[0]!.response;
  return {
    dek,
    ciphertext: fromBase64(first.ciphertext),
    category: first.category,
    releasedBy: opened.map((o) => o.share.memberId),
    failures,
  };
}
