/**
 * A release gateway: one committee member's HTTP front. For each signed release request it checks,
 * in order: the request's shape, that it is for this gateway, its expiry (at most RELEASE_REQUEST_TTL_S
 * ahead), the requester's EIP-712 signature, the requester's rate, that the nonce is new, that the
 * record version exists and has a share for this member in the current epoch, and on chain that a
 * grant or a break-glass window covers the record's category right now. Only then does it write the
 * release to its durable log, and only after that does it open its share and re-seal it to the
 * requester. Every refusal says why, in words, with a stable code.
 *
 * The log is batched into Merkle roots posted on ReleaseCommittee (postLogRoots), so anyone can later
 * prove a release happened, or that an entry was altered or left out.
 */
import { mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { secp256k1 } from '@noble/curves/secp256k1';
import Database from 'better-sqlite3';
import { asc, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { createPublicClient, encodeAbiParameters, getAddress, hashTypedData, http, isAddress, keccak256, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import { releaseCommitteeAbi } from '@consentry/sdk/abi/generated';
import { RELEASE_REQUEST_TTL_S, releaseAssociatedData, releaseTypedData, type ReleaseRequest, type ReleaseResponse } from '@consentry/sdk/access/release';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { walletClientFor } from '@consentry/sdk/clients';
import { createKeySealer } from '@consentry/sdk/crypto/envelope';
import { createShareOpener, readShareHeader } from '@consentry/sdk/crypto/shares';
import type { Deployment } from '@consentry/sdk/deployment';
import { categoryBit, type Category } from '@consentry/sdk/records/categories';
import { fromBase64, toBase64 } from '@consentry/sdk/records/versions';
import * as schema from '../db/schema/sqlite/gateway.ts';
import type { Vault } from '../records/vault.ts';
import { createChainView, type Head } from './chain-view.ts';
import { logLeaf, logTree } from './log-tree.ts';
import { createPurchaseReleaser, type PurchaseReleaser } from './purchase-release.ts';

export { verifyLogEntry } from './log-tree.ts';

export interface GatewayOptions {
  /** The member's account key (signs log roots) and X25519 secret (opens its shares). */
  memberPrivateKey: Hex;
  memberSecretKey: Uint8Array;
  vault: Vault;
  blobs: BlobStore;
  rpcUrl: string;
  deployment: Deployment;
  /** The gateway's log file (SQLite). */
  logFile: string;
  /** Requests per second per requester (default 50, bursts of 100). */
  ratePerSecond?: number;
  /** Report where each release's time went (a Server-Timing header; benchmarks). */
  timing?: boolean;
  now?: () => number;
}

export interface GatewayReply {
  status: number;
  body: ReleaseResponse | { error: { code: string; message: string } };
  /** Server-Timing header value (with `timing`): ms spent in each step of the release. */
  timing?: string;
}

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const bodySchema = z.object({
  request: z.object({
    requester: z.string().refine((a) => isAddress(a), 'not an address'),
    requesterKey: hex32,
    patient: z.string().refine((a) => isAddress(a), 'not an address'),
    recordId: hex32,
    version: z.number().int().min(1).max(0xffffffff),
    gateways: z.array(z.string().refine((a) => isAddress(a), 'not an address')).min(1).max(16),
    nonce: hex32,
    expiresAt: z.number().int().positive(),
  }),
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/),
});

const refuse = (status: number, code: string, message: string): GatewayReply => ({ status, body: { error: { code, message } } });

export interface Gateway {
  readonly member: Address;
  release(body: unknown): Promise<GatewayReply>;
  /** Research purchases (POST /purchase-release, GET /extracts/:hash); absent when the deployment has no market. */
  readonly purchases: PurchaseReleaser | undefined;
  /** Posts the log entries not yet in a root: one root per call. Resolves with how many entries. */
  postLogRoots(): Promise<number>;
  /** The log, oldest first (for audits and tests). */
  log(): Array<typeof schema.gatewayRelease.$inferSelect>;
  /**
   * The public feed: up to `limit` entries with seq > `after`, by seq. Entries not yet in a posted
   * root come with batchRoot and proof null; `next` is the last seq returned (or `after`).
   */
  logPage(after: number, limit: number): LogPage;
  close(): void;
}

/** One entry of the public log feed (GET /log): what the indexer holds and the patient checks. */
export interface LogFeedEntry {
  seq: number;
  id: Hex;
  requester: Hex;
  patient: Hex;
  recordId: Hex;
  version: number;
  category: string;
  purpose: number;
  releasedAt: number;
  batchRoot: Hex | null;
  proof: Hex[] | null;
}

export interface LogPage {
  member: Address;
  entries: LogFeedEntry[];
  next: number;
}

export const LOG_PAGE_MAX = 1000;

export function createGateway(opts: GatewayOptions): Gateway {
  const account = privateKeyToAccount(opts.memberPrivateKey);
  const member = account.address;
  const grants = opts.deployment.contracts.AccessGrants?.address;
  const committeeAddress = opts.deployment.contracts.ReleaseCommittee?.address;
  if (!grants || !committeeAddress) throw new Error('The deployment has no AccessGrants or ReleaseCommittee: deploy again (`npm start`)');
  const chainId = opts.deployment.chainId;
  // JSON-RPC batching: the reads of the releases in flight together go in one HTTP request.
  const client = createPublicClient({ transport: http(opts.rpcUrl, { batch: { wait: 0 }, retryCount: 1, timeout: 10_000 }) });
  const chain = createChainView(client, { grants, committee: committeeAddress });
  const wallet = walletClientFor(opts.rpcUrl, chainId, opts.memberPrivateKey);
  const openShare = createShareOpener(opts.memberSecretKey);
  const now = opts.now ?? (() => Date.now());

  mkdirSync(dirname(opts.logFile), { recursive: true });
  const sqlite = new Database(opts.logFile);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a release logged is a release that survives a crash of the gateway or the machine.
  sqlite.pragma('synchronous = FULL');
  const db = drizzle({ client: sqlite, schema });
  const pkg = createRequire(import.meta.url).resolve('@consentry/workers/package.json');
  migrate(db, { migrationsFolder: join(dirname(pkg), 'drizzle', 'gateway-sqlite') });
  const t = schema.gatewayRelease;

  // Token buckets per requester.
  const rate = opts.ratePerSecond ?? 50;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const allow = (who: string): boolean => {
    const at = now();
    const b = buckets.get(who) ?? { tokens: rate * 2, at };
    b.tokens = Math.min(rate * 2, b.tokens + ((at - b.at) / 1000) * rate);
    b.at = at;
    buckets.set(who, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };

  const { StudyMarket, StudyRegistry, ConsentToken } = opts.deployment.contracts;
  const purchases =
    StudyMarket && StudyRegistry && ConsentToken
      ? createPurchaseReleaser({
          memberPrivateKey: opts.memberPrivateKey,
          memberSecretKey: opts.memberSecretKey,
          client,
          chainId,
          contracts: { StudyMarket: StudyMarket.address, StudyRegistry: StudyRegistry.address, ConsentToken: ConsentToken.address },
          fromBlock: BigInt(Math.min(StudyMarket.startBlock, StudyRegistry.startBlock, ConsentToken.startBlock)),
          vault: opts.vault,
          blobs: opts.blobs,
          allow,
        })
      : undefined;

  // One sealer per requester key: the X25519 agreement is done once per SEALER_BATCH releases to the
  // same requester instead of for each (createKeySealer's batch: every sealed share still has its own
  // random nonce and carries its ephemeral key, so each opens on its own).
  const sealers = new Map<Hex, ReturnType<typeof createKeySealer>>();
  const sealerFor = (key: Hex) => {
    let sealer = sealers.get(key);
    if (sealer) sealers.delete(key);
    else sealer = createKeySealer(fromBase64Hex(key), { batch: SEALER_BATCH });
    sealers.set(key, sealer);
    if (sealers.size > CACHE_ENTRIES) sealers.delete(sealers.keys().next().value!);
    return sealer;
  };

  // Ciphertexts by cid (content-addressed, so never stale), base64 as they are sent; the vault is
  // still asked on every release whether the record exists and is not erased.
  const ciphertexts = new Map<string, string>();
  let ciphertextBytes = 0;
  const ciphertextOf = async (cid: string): Promise<string> => {
    const cached = ciphertexts.get(cid);
    if (cached !== undefined) return cached;
    const b64 = toBase64(await opts.blobs.get(cid));
    if (!ciphertexts.has(cid)) {
      ciphertexts.set(cid, b64);
      ciphertextBytes += b64.length;
      for (const [old, v] of ciphertexts) {
        if (ciphertextBytes <= CIPHERTEXT_CACHE_BYTES) break;
        ciphertexts.delete(old);
        ciphertextBytes -= v.length;
      }
    }
    return b64;
  };

  // Group commit: the releases that arrive together are written in one transaction, one fsync
  // (synchronous=FULL), before any of their shares leaves. Resolves false for a replayed nonce.
  type Entry = typeof t.$inferInsert;
  let queue: Array<{ entry: Entry; done: (fresh: boolean) => void; fail: (err: unknown) => void }> = [];
  const insert = sqlite.prepare(
    'insert or ignore into gateway_release (id, requester, patient, record_id, version, category, purpose, nonce, released_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const writeQueued = () => {
    const batch = queue;
    queue = [];
    try {
      const results = sqlite.transaction(() =>
        batch.map(({ entry: e }) => insert.run(e.id, e.requester, e.patient, e.recordId, e.version, e.category, e.purpose, e.nonce, e.releasedAt).changes === 1),
      )();
      batch.forEach((b, i) => b.done(results[i]!));
    } catch (err) {
      for (const b of batch) b.fail(err);
    }
  };
  const logRelease = (entry: Entry) =>
    new Promise<boolean>((done, fail) => {
      if (queue.length === 0) setImmediate(writeQueued);
      queue.push({ entry, done, fail });
    });

  const nonceUsed = sqlite.prepare<[string, string], { one: number }>('select 1 as one from gateway_release where requester = ? and nonce = ?');
  const setProof = sqlite.prepare<[string, string, number]>('update gateway_release set batch_root = ?, proof = ? where seq = ?');
  const pageQuery = sqlite.prepare<[number, number], { seq: number; id: Hex; requester: Hex; patient: Hex; record_id: Hex; version: number; category: string; purpose: number; released_at: number; batch_root: Hex | null; proof: string | null }>(
    'select seq, id, requester, patient, record_id, version, category, purpose, released_at, batch_root, proof from gateway_release where seq > ? order by seq limit ?',
  );

  async function whyNotLive(head: Head, patient: Address, requester: Address, bit: number): Promise<GatewayReply> {
    const grant = await chain.grantOf(head, patient, requester);
    if (grant.expiresAt === 0n) return refuse(403, 'NO_GRANT', 'No grant from this patient covers you (none was approved, or it was revoked)');
    if (grant.expiresAt <= head.timestamp) return refuse(403, 'GRANT_EXPIRED', `Your grant from this patient expired at ${new Date(Number(grant.expiresAt) * 1000).toISOString()}`);
    if ((grant.categories & (1 << bit)) === 0) return refuse(403, 'CATEGORY_NOT_COVERED', 'Your grant does not cover this record\'s category');
    return refuse(403, 'NOT_LIVE', 'The chain does not allow this release now (the patient\'s policy or your accreditation)');
  }

  async function releaseChecked(raw: unknown, spans?: Spans): Promise<GatewayReply> {
    const parsed = bodySchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return refuse(400, 'BAD_REQUEST', `The release request is malformed at ${i.path.join('.')}: ${i.message}`);
    }
    const { signature } = parsed.data;
    const r = parsed.data.request;
    const request: ReleaseRequest = {
      requester: getAddress(r.requester),
      requesterKey: r.requesterKey.toLowerCase() as Hex,
      patient: getAddress(r.patient),
      recordId: r.recordId.toLowerCase() as Hex,
      version: r.version,
      gateways: r.gateways.map((g) => getAddress(g)),
      nonce: r.nonce.toLowerCase() as Hex,
      expiresAt: r.expiresAt,
    };
    if (!request.gateways.includes(member)) return refuse(400, 'WRONG_GATEWAY', `This request names gateways ${request.gateways.join(', ')}, not ${member}`);
    const seconds = now() / 1000;
    if (request.expiresAt <= seconds) return refuse(401, 'REQUEST_EXPIRED', 'The signed request has expired; sign a new one');
    if (request.expiresAt > seconds + RELEASE_REQUEST_TTL_S + 30) return refuse(401, 'REQUEST_TOO_LONG', `A request may be valid for at most ${RELEASE_REQUEST_TTL_S} s`);
    const valid = signedBy(request.requester, hashTypedData(releaseTypedData(chainId, grants!, request)), signature as Hex);
    spans?.mark('verify');
    if (!valid) return refuse(401, 'BAD_SIGNATURE', 'The request is not signed by the requester it names');
    if (!allow(request.requester)) return refuse(429, 'RATE_LIMITED', `More than ${rate} requests per second; slow down`);
    const requester = request.requester.toLowerCase();
    if (nonceUsed.get(requester, request.nonce)) return refuse(409, 'REPLAYED', 'This request was already used (same nonce); sign a new one');
    // The head is read from now on, while the vault answers (never a head read before this request).
    const pendingHead = chain.head();
    pendingHead.catch(() => undefined); // awaited below, unless the vault refuses first
    const version = await opts.vault.version(request.recordId, request.version);
    if (!version || version.patient !== request.patient.toLowerCase()) return refuse(404, 'NO_RECORD', 'No such record version for this patient');
    if (version.sealedKey === null) return refuse(410, 'RECORD_ERASED', 'The record was erased; nothing can be released');
    spans?.mark('vault');
    const head = await pendingHead;
    const epoch = await chain.epoch(head);
    spans?.mark('chain');
    const share = await opts.vault.shareFor(request.recordId, request.version, member, epoch);
    if (!share) return refuse(404, 'NO_SHARE', `This gateway holds no share of this record for committee epoch ${epoch} (the patient's client has not shared it yet)`);
    spans?.mark('vault');
    const bit = categoryBit(version.category as Category);
    const [live, grant] = await Promise.all([chain.isLive(head, request.patient, request.requester, bit), chain.grantOf(head, request.patient, request.requester)]);
    spans?.mark('chain');
    if (!live) return whyNotLive(head, request.patient, request.requester, bit);

    // The log first: a share never leaves without its entry on disk.
    const releasedAt = now();
    const id = keccak256(
      encodeAbiParameters(
        [{ type: 'address' }, { type: 'address' }, { type: 'bytes32' }, { type: 'uint32' }, { type: 'bytes32' }, { type: 'uint64' }],
        [request.requester, request.patient, request.recordId, request.version, request.nonce, BigInt(releasedAt)],
      ),
    );
    const fresh = await logRelease({ id, requester, patient: version.patient, recordId: request.recordId, version: request.version, category: version.category, purpose: Number(grant.purpose), nonce: request.nonce, releasedAt });
    spans?.mark('log');
    if (!fresh) return refuse(409, 'REPLAYED', 'This request was already used (same nonce); sign a new one');
    const sealedShare = fromBase64(share.sealedShare);
    const opened = openShare(sealedShare);
    const { headerLength } = readShareHeader(sealedShare);
    const ad = releaseAssociatedData(sealedShare.subarray(0, headerLength), request.requester, request.nonce);
    const sealedY = sealerFor(request.requesterKey)(opened.y, ad);
    opened.y.fill(0);
    spans?.mark('seal');
    const ciphertext = await ciphertextOf(version.cid);
    spans?.mark('blob');
    return {
      status: 200,
      body: { share: share.sealedShare, sealedY: toBase64(sealedY), category: version.category, cid: version.cid, ciphertext, logId: id },
    };
  }

  return {
    member,
    purchases,
    async release(raw) {
      const spans = opts.timing ? new Spans() : undefined;
      const reply = await releaseChecked(raw, spans);
      if (spans) reply.timing = spans.header();
      return reply;
    },

    async postLogRoots() {
      const pending = db.select().from(t).where(isNull(t.batchRoot)).orderBy(asc(t.seq)).limit(4096).all();
      if (pending.length === 0) return 0;
      const tree = logTree(pending.map(logLeaf));
      const root = tree.root;
      const already = await client.readContract({ address: committeeAddress!, abi: releaseCommitteeAbi, functionName: 'wasPostedBy', args: [root, member] });
      if (!already) {
        const hash = await wallet.writeContract({ address: committeeAddress!, abi: releaseCommitteeAbi, functionName: 'postLogRoot', args: [root, pending.length], gas: 200_000n });
        const receipt = await client.waitForTransactionReceipt({ hash, timeout: 60_000 });
        if (receipt.status !== 'success') throw new Error(`Posting the log root reverted (${hash}); the entries stay pending`);
      }
      sqlite.transaction(() => {
        pending.forEach((e, i) => setProof.run(root, JSON.stringify(tree.proofs[i]), e.seq));
      })();
      return pending.length;
    },

    log: () => db.select().from(t).orderBy(asc(t.seq)).all(),
    logPage(after, limit) {
      if (!Number.isSafeInteger(after) || after < 0) throw new RangeError('after must be a whole number ≥ 0');
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > LOG_PAGE_MAX) throw new RangeError(`limit must be a whole number from 1 to ${LOG_PAGE_MAX}`);
      const entries = pageQuery.all(after, limit).map(
        (e): LogFeedEntry => ({
          seq: e.seq,
          id: e.id,
          requester: e.requester,
          patient: e.patient,
          recordId: e.record_id,
          version: e.version,
          category: e.category,
          purpose: e.purpose,
          releasedAt: e.released_at,
          // Root and proof are written together in one transaction: both or neither.
          batchRoot: e.batch_root !== null && e.proof !== null ? e.batch_root : null,
          proof: e.batch_root !== null && e.proof !== null ? (JSON.parse(e.proof) as Hex[]) : null,
        }),
      );
      return { member, entries, next: entries.length > 0 ? entries[entries.length - 1]!.seq : after };
    },
    close: () => {
      if (queue.length > 0) writeQueued();
      sqlite.close();
    },
  };
}

/** Where a release's time goes: named spans, as a Server-Timing header (`verify;dur=1.2, …`). */
class Spans {
  private readonly start = performance.now();
  private last = this.start;
  private readonly spans = new Map<string, number>();
  mark(name: string): void {
    const at = performance.now();
    this.spans.set(name, (this.spans.get(name) ?? 0) + (at - this.last));
    this.last = at;
  }
  header(): string {
    return [...this.spans, ['total', performance.now() - this.start] as const].map(([n, d]) => `${n};dur=${d.toFixed(2)}`).join(', ');
  }
}

const SEALER_BATCH = 256;
const CACHE_ENTRIES = 4096;
const CIPHERTEXT_CACHE_BYTES = 32 * 1024 * 1024;
/**
 * Whether `signature` (65 bytes, v 0/1/27/28) over `hash` recovers to `address`: what viem's
 * verifyTypedData checks, with noble imported once (viem imports it dynamically on every call).
 */
function signedBy(address: Address, hash: Hex, signature: Hex): boolean {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return false;
  const v = Number.parseInt(signature.slice(130), 16);
  const bit = v === 0 || v === 27 ? 0 : v === 1 || v === 28 ? 1 : undefined;
  if (bit === undefined) return false;
  try {
    const key = secp256k1.Signature.fromCompact(signature.slice(2, 130)).addRecoveryBit(bit).recoverPublicKey(hash.slice(2)).toRawBytes(false);
    return keccak256(key.subarray(1)).slice(26) === address.slice(2).toLowerCase();
  } catch {
    return false;
  }
}

function fromBase64Hex(hex: Hex): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}
