// The relayer over real HTTP on a real anvil chain, with OpenZeppelin's ERC2771Forwarder and an
// ERC-2771 target (contracts/test/helpers/RelayTarget.sol) deployed from the forge build: a
// request signed by an address holding no ether is relayed and the target sees the signer, not the
// relayer; replays, altered requests, other targets or functions, ether, too much gas, expired
// requests and would-be reverts are refused in words before anything is sent; concurrent relays
// all land (the relayer's sends are serialized); per-signer rate limits answer 429 and a relayer
// without ether answers 503.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, getAddress, parseEther, toFunctionSelector, type Abi, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { REPO_ROOT } from '@consentry/sdk/config';
import { relay, RelayRefusedError, signForwardRequest, forwardRequestToJson, type ForwardRequest } from '@consentry/sdk/research/forwarder';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { builtAbi, defaultAllowList } from './main.ts';
import { createRelayer, relayGasLimit, type RelayerOptions } from './relayer.ts';
import { startRelayerServer, type RelayerServer } from './server.ts';

const CHAIN = 31337;
const artifact = (name: string): { abi: Abi; bytecode: Hex } => {
  const a = JSON.parse(readFileSync(join(REPO_ROOT, 'contracts', 'out', `${name}.sol`, `${name}.json`), 'utf8')) as { abi: Abi; bytecode: { object: Hex } };
  return { abi: a.abi, bytecode: a.bytecode.object };
};
const Forwarder = artifact('ERC2771Forwarder');
const Target = artifact('RelayTarget');

let anvil: AnvilInstance;
let client: ReturnType<typeof publicClientFor>;
let forwarder: Address;
let target: Address;
let server: RelayerServer;
const started: RelayerServer[] = [];
const relayerKey = ANVIL_ACCOUNTS[5]!.privateKey;
const PING = toFunctionSelector('ping(uint256)');

const ping = (value: bigint): Hex => encodeFunctionData({ abi: Target.abi, functionName: 'ping', args: [value] });
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const fwd = () => ({ client, address: forwarder });
const read = <T>(functionName: string, args: readonly unknown[] = []): Promise<T> =>
  client.readContract({ address: target, abi: Target.abi, functionName, args }) as Promise<T>;

async function deploy(a: { abi: Abi; bytecode: Hex }, args: readonly unknown[]): Promise<Address> {
  const wallet = walletClientFor(anvil.rpcUrl, CHAIN, ANVIL_ACCOUNTS[0]!.privateKey);
  const hash = await wallet.deployContract({ abi: a.abi, bytecode: a.bytecode, args });
  const receipt = await client.waitForTransactionReceipt({ hash });
  return getAddress(receipt.contractAddress!);
}

async function startRelayer(over: Partial<RelayerOptions> = {}): Promise<RelayerServer> {
  const relayer = createRelayer({
    rpcUrl: anvil.rpcUrl,
    chainId: CHAIN,
    privateKey: relayerKey,
    forwarder,
    allow: [{ address: target, selectors: [PING], name: 'RelayTarget.ping' }],
    abis: Target.abi,
    ...over,
  });
  const s = await startRelayerServer(relayer);
  started.push(s);
  return s;
}

/** A fresh per-study style address: never funded. */
const freshAccount = () => privateKeyToAccount(generatePrivateKey());

async function refusal(p: Promise<unknown>): Promise<RelayRefusedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RelayRefusedError);
  return err as RelayRefusedError;
}

async function postRaw(url: string, request: ForwardRequest | Record<string, unknown>) {
  const res = await fetch(`${url}/relay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ request: 'signature' in request && typeof request.value === 'bigint' ? forwardRequestToJson(request as ForwardRequest) : request }),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

beforeAll(async () => {
  anvil = await startAnvil();
  client = publicClientFor(anvil.rpcUrl, CHAIN);
  forwarder = await deploy(Forwarder, ['ConsentryForwarder']);
  target = await deploy(Target, [forwarder]);
  server = await startRelayer();
}, 120_000);

afterAll(async () => {
  for (const s of started) await s.close();
  await anvil?.stop();
});

describe('relayer (real HTTP, real chain, OpenZeppelin ERC2771Forwarder)', () => {
  it('relays a request signed by an address without ether: the target sees the signer, the relayer pays', async () => {
    const study = freshAccount();
    const relayerAddress = privateKeyToAccount(relayerKey).address;
    const before = await client.getBalance({ address: relayerAddress });
    const request = await signForwardRequest(study, fwd(), { to: target, data: ping(7n), gas: 100_000n, deadline: inAnHour() });
    const result = await relay(server.url, request);
    expect(result.status).toBe('success');
    expect(await read<Address>('lastSender')).toBe(study.address);
    expect(await read<bigint>('callsBy', [study.address])).toBe(1n);
    expect(await read<bigint>('callsBy', [relayerAddress])).toBe(0n);
    expect(await client.getBalance({ address: study.address })).toBe(0n);
    expect(await client.getBalance({ address: relayerAddress })).toBeLessThan(before);
    // The gas was set, not estimated: the transaction's limit is the request's plus the overhead.
    const tx = await client.getTransaction({ hash: result.hash });
    expect(tx.gas).toBe(relayGasLimit(request));
    expect(tx.to).toBe(forwarder.toLowerCase());
  });

  it('refuses a replayed request (the nonce was used) in words', async () => {
    const study = freshAccount();
    const request = await signForwardRequest(study, fwd(), { to: target, data: ping(3n), gas: 100_000n, deadline: inAnHour() });
    await relay(server.url, request);
    const err = await refusal(relay(server.url, request));
    expect(err.code).toBe('NONCE_USED');
    expect(err.status).toBe(409);
    expect(err.message).toMatch(/already relayed.*runs only once/);
    expect(await read<bigint>('callsBy', [study.address])).toBe(1n);
  });

  it('refuses a tampered request (bad signature) in words, and one claiming another signer', async () => {
    const study = freshAccount();
    const request = await signForwardRequest(study, fwd(), { to: target, data: ping(5n), gas: 100_000n, deadline: inAnHour() });
    const altered = await refusal(relay(server.url, { ...request, data: ping(6n) }));
    expect(altered.code).toBe('BAD_SIGNATURE');
    expect(altered.status).toBe(401);
    expect(altered.message).toMatch(/altered after signing/);
    const impostor = await refusal(relay(server.url, { ...request, from: freshAccount().address }));
    expect(impostor.code).toBe('BAD_SIGNATURE');
    expect(await read<bigint>('callsBy', [study.address])).toBe(0n);
    // The genuine request still goes through afterwards.
    expect((await relay(server.url, request)).status).toBe('success');
  });

  it('refuses targets and functions that are not on the allow-list, ether, and too much gas', async () => {
    const study = freshAccount();
    const other = await signForwardRequest(study, fwd(), {
      to: target,
      data: encodeFunctionData({ abi: Target.abi, functionName: 'other' }),
      gas: 100_000n,
      deadline: inAnHour(),
    });
    const fn = await refusal(relay(server.url, other));
    expect(fn.code).toBe('TARGET_NOT_ALLOWED');
    expect(fn.status).toBe(403);
    expect(fn.message).toMatch(/only RelayTarget\.ping/);
    const elsewhere = await signForwardRequest(study, fwd(), { to: forwarder, data: ping(1n), gas: 100_000n, deadline: inAnHour() });
    expect((await refusal(relay(server.url, elsewhere))).code).toBe('TARGET_NOT_ALLOWED');
    const paid = await signForwardRequest(study, fwd(), { to: target, data: ping(1n), gas: 100_000n, deadline: inAnHour(), value: 1n });
    expect((await refusal(relay(server.url, paid))).code).toBe('VALUE_NOT_ALLOWED');
    const greedy = await signForwardRequest(study, fwd(), { to: target, data: ping(1n), gas: 5_000_000n, deadline: inAnHour() });
    const g = await refusal(relay(server.url, greedy));
    expect(g.code).toBe('GAS_OUT_OF_RANGE');
    expect(g.message).toMatch(/1 to 1500000 gas/);
  });

  it('refuses, before sending, a request that would revert, with the reason', async () => {
    const study = freshAccount();
    const relayerAddress = privateKeyToAccount(relayerKey).address;
    const nonceBefore = await client.getTransactionCount({ address: relayerAddress });
    const request = await signForwardRequest(study, fwd(), { to: target, data: ping(0n), gas: 100_000n, deadline: inAnHour() });
    const err = await refusal(relay(server.url, request));
    expect(err.code).toBe('WOULD_REVERT');
    expect(err.status).toBe(422);
    expect(err.message).toMatch(/would fail.*RelayTarget__Refused/);
    // Too little gas for the call: refused too, in words.
    const starved = await signForwardRequest(study, fwd(), { to: target, data: ping(9n), gas: 2_000n, deadline: inAnHour() });
    const s = await refusal(relay(server.url, starved));
    expect(s.code).toBe('WOULD_REVERT');
    expect(s.message).toMatch(/without a reason|ran out of the gas/);
    expect(await client.getTransactionCount({ address: relayerAddress })).toBe(nonceBefore);
  });

  it('refuses an expired request in words', async () => {
    const study = freshAccount();
    const request = await signForwardRequest(study, fwd(), { to: target, data: ping(2n), gas: 100_000n, deadline: Math.floor(Date.now() / 1000) - 60 });
    const err = await refusal(relay(server.url, request));
    expect(err.code).toBe('EXPIRED');
    expect(err.message).toMatch(/expired at .*sign it again/);
  });

  it('refuses malformed requests and bad HTTP', async () => {
    const bad = await postRaw(server.url, { from: '0x12', to: target, value: '0', gas: '1', deadline: 1, data: '0x', signature: '0x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('BAD_REQUEST');
    expect(bad.body.error?.message).toMatch(/from: an address/);
    const notJson = await fetch(`${server.url}/relay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
    const wrongType = await fetch(`${server.url}/relay`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(wrongType.status).toBe(415);
    const big = await fetch(`${server.url}/relay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('relays concurrent requests from several signers (its own sends serialized)', async () => {
    const accounts = Array.from({ length: 6 }, freshAccount);
    const requests = await Promise.all(accounts.map((a, i) => signForwardRequest(a, fwd(), { to: target, data: ping(BigInt(i + 1)), gas: 100_000n, deadline: inAnHour() })));
    const results = await Promise.all(requests.map((r) => relay(server.url, r)));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('success'));
    expect(new Set(results.map((r) => r.hash)).size).toBe(6);
    for (const a of accounts) expect(await read<bigint>('callsBy', [a.address])).toBe(1n);
  });

  it('rate-limits per signer (429) while others still get through', async () => {
    const limited = await startRelayer({ rateLimit: { perFrom: { max: 2, windowMs: 60_000 }, global: { max: 100, windowMs: 60_000 } } });
    const study = freshAccount();
    for (let i = 0; i < 2; i++) {
      const r = await signForwardRequest(study, fwd(), { to: target, data: ping(1n), gas: 100_000n, deadline: inAnHour() });
      expect((await relay(limited.url, r)).status).toBe('success');
    }
    const third = await signForwardRequest(study, fwd(), { to: target, data: ping(1n), gas: 100_000n, deadline: inAnHour() });
    const err = await refusal(relay(limited.url, third));
    expect(err.status).toBe(429);
    expect(err.code).toBe('RATE_LIMITED');
    const someoneElse = await signForwardRequest(freshAccount(), fwd(), { to: target, data: ping(1n), gas: 100_000n, deadline: inAnHour() });
    expect((await relay(limited.url, someoneElse)).status).toBe('success');
    const busy = await startRelayer({ rateLimit: { global: { max: 1, windowMs: 60_000 } } });
    await postRaw(busy.url, {});
    const over = await postRaw(busy.url, {});
    expect(over.status).toBe(429);
  });

  it('says it is out of ether (503) rather than failing obscurely, and its health says so', async () => {
    const poorKey = generatePrivateKey();
    const poor = await startRelayer({ privateKey: poorKey });
    const health = await fetch(`${poor.url}/health`).then((r) => r.json() as Promise<{ funded: boolean; balanceWei: string; address: string }>);
    expect(health).toMatchObject({ funded: false, balanceWei: '0', address: privateKeyToAccount(poorKey).address });
    const request = await signForwardRequest(freshAccount(), fwd(), { to: target, data: ping(4n), gas: 100_000n, deadline: inAnHour() });
    const err = await refusal(relay(poor.url, request));
    expect(err.status).toBe(503);
    expect(err.code).toBe('RELAYER_OUT_OF_FUNDS');
    expect(err.message).toMatch(/out of ether: it needs [\d.]+ ETH/);
    // Funded, the same signed request goes through.
    await walletClientFor(anvil.rpcUrl, CHAIN, ANVIL_ACCOUNTS[0]!.privateKey).sendTransaction({ to: privateKeyToAccount(poorKey).address, value: parseEther('1') });
    expect((await relay(poor.url, request)).status).toBe('success');
    const healthy = await fetch(`${server.url}/health`).then((r) => r.json() as Promise<{ funded: boolean }>);
    expect(healthy.funded).toBe(true);
  });

  it('revokes a ConsentToken for its holder (the default allow-list, a real marketplace contract), and refuses a second revocation with the reason', async () => {
    const Consent = artifact('ConsentToken');
    const admin = walletClientFor(anvil.rpcUrl, CHAIN, ANVIL_ACCOUNTS[0]!.privateKey);
    const token = await deploy(Consent, [admin.account.address, forwarder, '']);
    const call = async (functionName: string, args: readonly unknown[]) => {
      const hash = await admin.writeContract({ address: token, abi: Consent.abi, functionName, args, account: admin.account, chain: admin.chain });
      expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success');
    };
    const minter = (await client.readContract({ address: token, abi: Consent.abi, functionName: 'MINTER_ROLE' })) as Hex;
    await call('grantRole', [minter, admin.account.address]);
    const study = freshAccount();
    await call('mint', [study.address, 7n, BigInt(inAnHour())]);
    const consent = await startRelayer({ allow: defaultAllowList({ ConsentToken: { address: token } }), abis: builtAbi('ConsentToken')! });
    const revoke = encodeFunctionData({ abi: Consent.abi, functionName: 'revoke', args: [7n] });
    const active = () => client.readContract({ address: token, abi: Consent.abi, functionName: 'isActive', args: [study.address, 7n] });
    expect(await active()).toBe(true);
    const request = await signForwardRequest(study, fwd(), { to: token, data: revoke, gas: 150_000n, deadline: inAnHour() });
    expect((await relay(consent.url, request)).status).toBe('success');
    expect(await active()).toBe(false);
    expect(await client.readContract({ address: token, abi: Consent.abi, functionName: 'isRevoked', args: [study.address, 7n] })).toBe(true);
    const again = await signForwardRequest(study, fwd(), { to: token, data: revoke, gas: 150_000n, deadline: inAnHour() });
    const err = await refusal(relay(consent.url, again));
    expect(err.code).toBe('WOULD_REVERT');
    // ConsentToken__NotHeld, in the words of sdk/src/access/actions.ts.
    expect(err.message).toMatch(/would fail\. This address holds no consent to study #7/);
    // The test target is not on this relayer's list.
    const ping1 = await signForwardRequest(study, fwd(), { to: target, data: ping(1n), gas: 100_000n, deadline: inAnHour() });
    expect((await refusal(relay(consent.url, ping1))).message).toMatch(/only ConsentToken\.revoke/);
  });

  it('answers 503 when the chain is unreachable', async () => {
    const down = await startRelayer({ rpcUrl: 'http://127.0.0.1:1' });
    const request = await signForwardRequest(freshAccount(), fwd(), { to: target, data: ping(4n), gas: 100_000n, deadline: inAnHour() });
    const err = await refusal(relay(down.url, request));
    expect(err.status).toBe(503);
    expect(err.code).toBe('CHAIN_UNAVAILABLE');
  });
});
