/**
 * Gasless calls through OpenZeppelin 5's ERC2771Forwarder (docs/decisions/024): a per-study
 * address signs an EIP-712 `ForwardRequest` and the relayer (workers/src/relayer) pays the gas.
 * The target sees the signer as `_msgSender()`; the forwarder checks the signature, the signer's
 * nonce (so a request runs once) and the deadline.
 *
 * `signForwardRequest` reads the signer's nonce and the forwarder's EIP-712 domain from the chain
 * (`eip712Domain()`, ERC-5267), so nothing about the deployment is assumed. `relay` posts a signed
 * request to a relayer and turns its refusals into a `RelayRefusedError` in words.
 */
import { getAddress, isAddress, isHex, type Address, type Hex, type LocalAccount, type PublicClient } from 'viem';
import { getEip712Domain } from 'viem/actions';
import { z } from 'zod';
import { erc2771ForwarderAbi } from '../abi/generated.ts';
import { ConsentryError } from '../errors.ts';

/** OpenZeppelin's ERC2771Forwarder, as built (scripts/gen-abi.mjs), deployed as `Forwarder`. */
export const forwarderAbi = erc2771ForwarderAbi;

/** The EIP-712 type the forwarder hashes (its FORWARD_REQUEST_TYPEHASH); the nonce is the signer's current one. */
export const FORWARD_REQUEST_TYPES = {
  ForwardRequest: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'gas', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint48' },
    { name: 'data', type: 'bytes' },
  ],
} as const;

/** The forwarder's `ForwardRequestData`: what `execute` takes (the nonce is not in it: the forwarder reads it). */
export interface ForwardRequest {
  from: Address;
  to: Address;
  value: bigint;
  gas: bigint;
  /** Unix seconds; the forwarder refuses the request once the block time passes it. */
  deadline: number;
  data: Hex;
  signature: Hex;
}

/** A ForwardRequest as JSON (numbers as decimal strings), the relayer's wire format. */
export interface ForwardRequestJson {
  from: Address;
  to: Address;
  value: string;
  gas: string;
  deadline: number;
  data: Hex;
  signature: Hex;
}

const MAX_UINT48 = 2 ** 48 - 1;
const address = z.string().refine((s) => isAddress(s, { strict: false }), 'an address (0x + 40 hex)').transform((s) => getAddress(s));
const uint = z.string().regex(/^\d{1,78}$/, 'a non-negative integer as a decimal string').transform((s) => BigInt(s));
const hex = z.string().refine((s) => isHex(s) && s.length % 2 === 0, 'hex bytes (0x…)').transform((s) => s.toLowerCase() as Hex);

/** Validates a request as JSON (the relayer's boundary) into a ForwardRequest. */
export const forwardRequestSchema = z.object({
  from: address,
  to: address,
  value: uint,
  gas: uint,
  deadline: z.number().int().min(0).max(MAX_UINT48),
  data: hex,
  // 65 bytes (r, s, v): the forwarder recovers with ECDSA.tryRecoverCalldata.
  signature: hex.refine((s) => s.length === 2 + 130, 'a 65-byte signature'),
});

export const forwardRequestToJson = (r: ForwardRequest): ForwardRequestJson => ({
  from: r.from,
  to: r.to,
  value: r.value.toString(),
  gas: r.gas.toString(),
  deadline: r.deadline,
  data: r.data,
  signature: r.signature,
});

/** A forwarder on a chain. */
export interface ForwarderContext {
  client: PublicClient;
  address: Address;
}

/** The EIP-712 domain of a deployed forwarder, as it reports it (ERC-5267). */
export async function forwarderDomain(forwarder: ForwarderContext) {
  const { domain } = await getEip712Domain(forwarder.client, { address: forwarder.address });
  return { name: domain.name, version: domain.version, chainId: domain.chainId, verifyingContract: domain.verifyingContract };
}

/** The signer's next forwarder nonce (how many of its requests the forwarder has executed). */
export function forwarderNonce(forwarder: ForwarderContext, from: Address): Promise<bigint> {
  return forwarder.client.readContract({ address: forwarder.address, abi: forwarderAbi, functionName: 'nonces', args: [from] });
}

export interface ForwardCall {
  to: Address;
  data: Hex;
  /** Gas the forwarder gives the call (the relayer adds its own overhead and caps this). */
  gas: bigint;
  /** Unix seconds after which the forwarder refuses the request. */
  deadline: number;
  /** Ether sent with the call; the relayer refuses any. */
  value?: bigint;
}

/**
 * Signs a call for the forwarder as `account` (the per-study address): reads the signer's nonce and
 * the domain from the chain, signs the EIP-712 ForwardRequest and returns what `execute` takes.
 */
export async function signForwardRequest(account: LocalAccount, forwarder: ForwarderContext, call: ForwardCall): Promise<ForwardRequest> {
  if (!Number.isInteger(call.deadline) || call.deadline < 0 || call.deadline > MAX_UINT48) {
    throw new ConsentryError('FORWARD_REQUEST_INVALID', `The deadline must be a unix time in seconds (got ${call.deadline})`);
  }
  if (call.gas <= 0n) throw new ConsentryError('FORWARD_REQUEST_INVALID', 'The request needs some gas for the call');
  const [domain, nonce] = await Promise.all([forwarderDomain(forwarder), forwarderNonce(forwarder, account.address)]);
  const message = {
    from: account.address,
    to: getAddress(call.to),
    value: call.value ?? 0n,
    gas: call.gas,
    nonce,
    deadline: call.deadline,
    data: call.data,
  };
  const signature = await account.signTypedData({ domain, types: FORWARD_REQUEST_TYPES, primaryType: 'ForwardRequest', message });
  return { from: message.from, to: message.to, value: message.value, gas: message.gas, deadline: message.deadline, data: message.data, signature };
}

/** The relayer refused a request, or could not be reached; `code` is the relayer's (or RELAYER_UNREACHABLE). */
export class RelayRefusedError extends ConsentryError {
  constructor(
    code: string,
    message: string,
    readonly status?: number,
  ) {
    super(code, message);
    this.name = 'RelayRefusedError';
  }
}

const relayReply = z.union([
  z.object({ hash: z.string().regex(/^0x[0-9a-fA-F]{64}$/).transform((s) => s as Hex), status: z.enum(['success', 'reverted']) }),
  z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
]);

/** Posts a signed request to a relayer (`url` is its base) and waits for the transaction: its hash and status. */
export async function relay(
  url: string,
  request: ForwardRequest,
  opts: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<{ hash: Hex; status: 'success' | 'reverted' }> {
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(`${url.replace(/\/+$/, '')}/relay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request: forwardRequestToJson(request) }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
    });
  } catch (err) {
    throw new RelayRefusedError('RELAYER_UNREACHABLE', `The relayer at ${url} could not be reached (${err instanceof Error ? err.message : String(err)})`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new RelayRefusedError('RELAYER_BAD_REPLY', `The relayer answered ${res.status} without JSON`, res.status);
  }
  const parsed = relayReply.safeParse(body);
  if (!parsed.success) throw new RelayRefusedError('RELAYER_BAD_REPLY', `The relayer answered ${res.status} with an unexpected body`, res.status);
  if ('error' in parsed.data) throw new RelayRefusedError(parsed.data.error.code, parsed.data.error.message, res.status);
  if (!res.ok) throw new RelayRefusedError('RELAYER_BAD_REPLY', `The relayer answered ${res.status}`, res.status);
  return parsed.data;
}
