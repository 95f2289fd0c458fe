/**
 * The chain as a gateway reads it for its releases. Chain state changes only from one block to the
 * next, so every answer is pinned to a block and asked once per block: all the releases checked
 * against the same head share one `isLive`, one `grantOf` per (patient, requester), one committee
 * read. The head itself is read fresh for every release, but shared: the releases that arrive while
 * a head read is in flight wait for the next read, sent after they arrived, so a release never uses
 * a head older than its own arrival. A release checked after the block that revoked a grant is
 * therefore checked against that block or a later one, exactly as a direct read at "latest" would be.
 */
import type { Address, Hex, PublicClient } from 'viem';
import { accessGrantsAbi, releaseCommitteeAbi } from '@consentry/sdk/abi/generated';

export interface Head {
  number: bigint;
  hash: Hex;
  timestamp: bigint;
}

export interface ChainView {
  /** The latest block, read after this call was made (shared by the calls waiting together). */
  head(): Promise<Head>;
  isLive(head: Head, patient: Address, requester: Address, bit: number): Promise<boolean>;
  grantOf(head: Head, patient: Address, requester: Address): Promise<{ categories: number; expiresAt: bigint; purpose: number }>;
  epoch(head: Head): Promise<number>;
}

const ignore = () => undefined;
const MAX_ANSWERS = 100_000;

export function createChainView(client: PublicClient, contracts: { grants: Address; committee: Address }): ChainView {
  let inFlight: Promise<Head> | undefined;
  let queued: Promise<Head> | undefined;
  const readHead = (): Promise<Head> => {
    const read: Promise<Head> = client
      .getBlock({ blockTag: 'latest' })
      .then((b) => ({ number: b.number, hash: b.hash, timestamp: b.timestamp }))
      .finally(() => {
        if (inFlight === read) inFlight = undefined;
      });
    inFlight = read;
    return read;
  };
  const head = (): Promise<Head> => {
    if (queued) return queued;
    if (!inFlight) return readHead();
    // The read in flight was sent before this call: wait for it to end, then share the next one.
    const next = inFlight.then(ignore, ignore).then(() => {
      queued = undefined;
      return readHead();
    });
    queued = next;
    return next;
  };

  // Answers for the newest head seen; a new head (or the same height on another branch) starts afresh.
  let cachedHash: Hex | undefined;
  let cachedNumber = -1n;
  let answers = new Map<string, Promise<unknown>>();
  const at = <T>(h: Head, question: string, read: () => Promise<T>): Promise<T> => {
    // A head older than the cached one (a slow release): ask directly, leave the cache alone.
    if (h.number < cachedNumber) return read();
    // A new block starts afresh; so does a cache grown large under a head that does not move (a
    // chain that mines only on demand).
    if (h.hash !== cachedHash || answers.size >= MAX_ANSWERS) {
      answers = new Map();
      cachedHash = h.hash;
      cachedNumber = h.number;
    }
    let answer = answers.get(question) as Promise<T> | undefined;
    if (!answer) {
      answer = read();
      const map = answers;
      map.set(question, answer);
      answer.catch(() => map.delete(question)); // a failed read is not an answer
    }
    return answer;
  };

  return {
    head,
    isLive: (h, patient, requester, bit) =>
      at(h, `live:${patient}:${requester}:${bit}`, () =>
        client.readContract({ address: contracts.grants, abi: accessGrantsAbi, functionName: 'isLive', args: [patient, requester, bit], blockNumber: h.number }),
      ),
    grantOf: (h, patient, requester) =>
      at(h, `grant:${patient}:${requester}`, async () => {
        const g = await client.readContract({ address: contracts.grants, abi: accessGrantsAbi, functionName: 'grantOf', args: [patient, requester], blockNumber: h.number });
        return { categories: Number(g.categories), expiresAt: g.expiresAt, purpose: Number(g.purpose) };
      }),
    epoch: (h) =>
      at(h, 'epoch', async () => {
        const [epoch] = await client.readContract({ address: contracts.committee, abi: releaseCommitteeAbi, functionName: 'committee', blockNumber: h.number });
        return Number(epoch);
      }),
  };
}
