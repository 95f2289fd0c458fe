/**
 * The gasless relayer (docs/decisions/024): takes a ForwardRequest signed by a per-study address
 * and sends it to OpenZeppelin's ERC2771Forwarder from its own account, paying the gas. It relays
 * only what the marketplace needs (allow-listed targets and selectors), no ether, bounded gas,
 * unexpired requests whose signature and nonce the forwarder accepts, and only requests that would
 * succeed (simulated first; a would-be revert is refused in words). Sends are serialized, so its
 * own account's nonces never collide; a request already in flight is refused rather than sent twice.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  TimeoutError,
  concatHex,
  decodeErrorResult,
  encodeFunctionData,
  formatEther,
  getAddress,
  isHex,
  recoverTypedDataAddress,
  slice,
  size,
  type Abi,
  type Address,
  type Hex,
} from 'viem';
import { z } from 'zod';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { ALL_ABIS, describeRevert } from '@consentry/sdk/access/actions';
import { FORWARD_REQUEST_TYPES, forwardRequestSchema, forwarderAbi, forwarderDomain, type ForwardRequest } from '@consentry/sdk/research/forwarder';

/** A contract the relayer calls for others, and the functions (4-byte selectors) it may call there. */
export interface AllowedTarget {
  address: Address;
  selectors: readonly Hex[];
  /** For messages: "StudyRegistry.enroll". */
  name?: string;
}

export interface RateLimit {
  max: number;
  windowMs: number;
}

export interface RelayerOptions {
  rpcUrl: string;
  chainId: number;
  /** The relayer's own key: pays the gas. */
  privateKey: Hex;
  forwarder: Address;
  allow: readonly AllowedTarget[];
  /** Most gas a request may ask for (default 1,500,000). */
  maxGas?: bigint;
  /** Per signer and overall (defaults: 10 and 120 a minute). */
  rateLimit?: { perFrom?: RateLimit; global?: RateLimit };
  /** More ABIs to decode a would-be revert with (ALL_ABIS and the forwarder's are always used). */
  abis?: Abi;
  /** How long to wait for a receipt (default 120 s). */
  receiptTimeoutMs?: number;
  /** Clock in ms (tests); defaults to Date.now. */
  now?: () => number;
}

/** An answer: HTTP status and JSON body. */
export interface RelayReply {
  status: number;
  body: { hash: Hex; status: 'success' | 'reverted' } | { error: { code: string; message: string } };
}

export interface RelayerHealth {
  address: Address;
  forwarder: Address;
  balanceWei: string;
  balance: string;
  /** Whether it holds enough ether for a request of the maximum gas at the current fees. */
  funded: boolean;
}

export interface Relayer {
  readonly address: Address;
  relay(body: unknown): Promise<RelayReply>;
  health(): Promise<RelayerHealth>;
}

/** Gas the forwarder spends around the call: signature recovery, the nonce write, the event, calldata. */
const FORWARDER_OVERHEAD = 60_000n;
const INTRINSIC = 21_000n;
/** How many older nonces to try when telling a replay from a bad signature. */
const REPLAY_LOOKBACK = 32n;

const refuse = (status: number, code: string, message: string): RelayReply => ({ status, body: { error: { code, message } } });

const bodySchema = z.object({ request: forwardRequestSchema });

/**
 * The transaction's gas: the forwarder must keep request.gas / 63 after the call (EIP-150's
 * all-but-one-64th rule; else it aborts with `invalid()`), plus its own work and the calldata.
 * Set explicitly, never estimated, so a relayed call gets exactly the gas that was signed for.
 */
export function relayGasLimit(request: Pick<ForwardRequest, 'gas' | 'data'>): bigint {
  const calldataBytes = BigInt(size(request.data)) + 600n; // the struct's head, the signature and the selector
  return request.gas + request.gas / 63n + 1n + FORWARDER_OVERHEAD + INTRINSIC + 16n * calldataBytes;
}

/** A sliding-window counter per key. */
function rateLimiter(limit: RateLimit, now: () => number) {
  const hits = new Map<string, number[]>();
  return {
    /** Counts a hit; false when the key is over its limit (the hit is not counted then). */
    take(key: string): boolean {
      const t = now();
      const recent = (hits.get(key) ?? []).filter((h) => h > t - limit.windowMs);
      if (recent.length >= limit.max) {
        hits.set(key, recent);
        return false;
      }
      recent.push(t);
      hits.set(key, recent);
      if (hits.size > 10_000) for (const [k, v] of hits) if (v.every((h) => h <= t - limit.windowMs)) hits.delete(k);
      return true;
    },
  };
}

/** One at a time: the relayer's own nonce is read and used inside. */
function serial() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

const FORWARDER_WORDS: Record<string, (args: readonly unknown[]) => string> = {
  ERC2771ForwarderInvalidSigner: () => 'The signature does not match the request (it was altered, or signed by another address)',
  ERC2771ForwarderExpiredRequest: ([deadline]) => `The request expired at ${new Date(Number(deadline) * 1000).toISOString()}`,
  ERC2771UntrustfulTarget: ([target]) => `${String(target)} does not trust this forwarder`,
  ERC2771ForwarderMismatchedValue: () => 'The ether sent does not match the request',
  FailedCall: () => 'The call failed',
};

export function createRelayer(opts: RelayerOptions): Relayer {
  const client = publicClientFor(opts.rpcUrl, opts.chainId, { retryCount: 1, pollingInterval: 100 });
  const wallet = walletClientFor(opts.rpcUrl, opts.chainId, opts.privateKey);
  const address = wallet.account.address;
  const forwarder = getAddress(opts.forwarder);
  const maxGas = opts.maxGas ?? 1_500_000n;
  const now = opts.now ?? Date.now;
  const perFrom = rateLimiter(opts.rateLimit?.perFrom ?? { max: 10, windowMs: 60_000 }, now);
  const global = rateLimiter(opts.rateLimit?.global ?? { max: 120, windowMs: 60_000 }, now);
  const decodeAbi = [...ALL_ABIS, ...forwarderAbi, ...(opts.abis ?? [])] as Abi;
  const allow = new Map(opts.allow.map((t) => [getAddress(t.address), { ...t, selectors: new Set(t.selectors.map((s) => s.toLowerCase())) }]));
  const inFlight = new Set<string>();
  const sendSerially = serial();
  let domain: Awaited<ReturnType<typeof forwarderDomain>> | undefined;

  /** A revert's data in words, decoded against every ABI the relayer knows. */
  const words = (data: Hex | undefined): string => {
    if (!data || data === '0x') return 'The call reverted without a reason (out of gas, or a failed assertion)';
    try {
      const d = decodeErrorResult({ abi: decodeAbi, data });
      const forwarderWords = FORWARDER_WORDS[d.errorName];
      if (forwarderWords) return forwarderWords(d.args ?? []);
      return describeRevert(new ContractFunctionRevertedError({ abi: decodeAbi, data, functionName: 'relay' })) ?? `The contract refused the request (${d.errorName})`;
    } catch {
      return `The call reverted with an unknown error (${slice(data, 0, Math.min(4, size(data)))})`;
    }
  };
  /**
   * A failed eth_call's revert data, or undefined when the call did not fail on chain (the chain
   * could not be reached). Running out of gas fails with no data.
   */
  const revertOf = (err: unknown): { data: Hex | undefined } | undefined => {
    if (!(err instanceof BaseError)) return undefined;
    if (err.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError)) return undefined;
    // The node's revert data rides on the innermost RPC error (`data`, or `data.data` in RawContractError).
    const withData = err.walk((e) => {
      const d = (e as { data?: unknown }).data;
      return isHex(d) || isHex((d as { data?: unknown } | undefined)?.data);
    }) as { data: Hex | { data: Hex } } | null;
    const d = withData?.data;
    return { data: d === undefined ? undefined : isHex(d) ? d : d.data };
  };

  /** Why verify() said no, in words: expired, replayed, or a bad signature. */
  async function diagnose(request: ForwardRequest, nonce: bigint): Promise<RelayReply> {
    const block = await client.getBlock({ blockTag: 'latest' });
    if (BigInt(request.deadline) < block.timestamp) {
      return refuse(400, 'EXPIRED', `The request expired at ${new Date(request.deadline * 1000).toISOString()}: sign it again`);
    }
    domain ??= await forwarderDomain({ client, address: forwarder });
    const signerFor = (n: bigint) =>
      recoverTypedDataAddress({
        domain: domain!,
        types: FORWARD_REQUEST_TYPES,
        primaryType: 'ForwardRequest',
        message: { from: request.from, to: request.to, value: request.value, gas: request.gas, nonce: n, deadline: request.deadline, data: request.data },
        signature: request.signature,
      }).catch(() => undefined);
    for (let n = nonce - 1n; n >= 0n && n >= nonce - REPLAY_LOOKBACK; n--) {
      if ((await signerFor(n)) === request.from) {
        return refuse(409, 'NONCE_USED', `This request was already relayed (it was signed for nonce ${n}; ${request.from} is now at ${nonce}): it runs only once`);
      }
    }
    return refuse(401, 'BAD_SIGNATURE', `The signature does not match the request: it was altered after signing, or not signed by ${request.from}`);
  }

  async function relayValid(request: ForwardRequest): Promise<RelayReply> {
    const nonce = await client.readContract({ address: forwarder, abi: forwarderAbi, functionName: 'nonces', args: [request.from] });
    const key = `${request.from}:${nonce}`;
    if (inFlight.has(key)) return refuse(409, 'IN_FLIGHT', `A request from ${request.from} with nonce ${nonce} is being relayed already`);
    inFlight.add(key);
    try {
      const ok = await client.readContract({ address: forwarder, abi: forwarderAbi, functionName: 'verify', args: [request] });
      if (!ok) return await diagnose(request, nonce);

      // The call as the forwarder makes it (the signer appended, ERC-2771), for the target's own reason.
      try {
        await client.call({ account: forwarder, to: request.to, data: concatHex([request.data, request.from]), gas: request.gas });
      } catch (err) {
        const r = revertOf(err);
        if (!r) throw err;
        return refuse(422, 'WOULD_REVERT', `Not relayed: the call would fail. ${words(r.data)}`);
      }
      const gas = relayGasLimit(request);
      const data = encodeFunctionData({ abi: forwarderAbi, functionName: 'execute', args: [request] });
      try {
        await client.call({ account: address, to: forwarder, data, gas });
      } catch (err) {
        const r = revertOf(err);
        if (!r) throw err;
        const reason = words(r.data);
        return refuse(422, 'WOULD_REVERT', `Not relayed: the forwarder would refuse it. ${reason === FORWARDER_WORDS.FailedCall!([]) ? 'The call ran out of the gas the request gives it' : reason}`);
      }

      const fees = await client.estimateFeesPerGas();
      const cost = gas * fees.maxFeePerGas;
      const hash = await sendSerially(async () => {
        const balance = await client.getBalance({ address });
        if (balance < cost) return undefined;
        const txNonce = await client.getTransactionCount({ address, blockTag: 'pending' });
        return wallet.sendTransaction({
          to: forwarder,
          data,
          gas,
          nonce: txNonce,
          maxFeePerGas: fees.maxFeePerGas,
          maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
          account: wallet.account,
          chain: wallet.chain,
        });
      });
      if (!hash) {
        return refuse(503, 'RELAYER_OUT_OF_FUNDS', `The relayer (${address}) is out of ether: it needs ${formatEther(cost)} ETH for this request. Try again later, or fund it`);
      }
      const receipt = await client.waitForTransactionReceipt({ hash, timeout: opts.receiptTimeoutMs ?? 120_000 });
      return { status: 200, body: { hash, status: receipt.status } };
    } finally {
      inFlight.delete(key);
    }
  }

  return {
    address,
    async relay(body: unknown): Promise<RelayReply> {
      if (!global.take('*')) return refuse(429, 'RATE_LIMITED', 'The relayer is busy: too many requests overall. Try again in a minute');
      const parsed = bodySchema.safeParse(body);
      if (!parsed.success) {
        return refuse(400, 'BAD_REQUEST', `Not a forward request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      }
      const request = parsed.data.request;
      if (!perFrom.take(request.from)) return refuse(429, 'RATE_LIMITED', `Too many requests from ${request.from}: try again in a minute`);
      const target = allow.get(request.to);
      const selector = size(request.data) >= 4 ? slice(request.data, 0, 4) : '0x';
      if (!target || !target.selectors.has(selector)) {
        return refuse(403, 'TARGET_NOT_ALLOWED', `The relayer does not relay calls to ${request.to} (${selector}): only ${opts.allow.map((t) => t.name ?? t.address).join(', ')}`);
      }
      if (request.value > 0n) return refuse(400, 'VALUE_NOT_ALLOWED', 'The relayer sends no ether: the request must have value 0');
      if (request.gas === 0n || request.gas > maxGas) return refuse(400, 'GAS_OUT_OF_RANGE', `A request may ask for 1 to ${maxGas} gas (asked ${request.gas})`);
      if (request.deadline * 1000 < now()) {
        return refuse(400, 'EXPIRED', `The request expired at ${new Date(request.deadline * 1000).toISOString()}: sign it again`);
      }
      return relayValid(request);
    },
    async health(): Promise<RelayerHealth> {
      const [balance, fees] = await Promise.all([client.getBalance({ address }), client.estimateFeesPerGas()]);
      const needed = relayGasLimit({ gas: maxGas, data: '0x' }) * fees.maxFeePerGas;
      return { address, forwarder, balanceWei: balance.toString(), balance: formatEther(balance), funded: balance >= needed };
    },
  };
}
