// EIP-712 ForwardRequests against OpenZeppelin's ERC2771Forwarder on a real anvil chain: the
// domain and nonce are read from the deployed forwarder, the forwarder's own verify() accepts the
// signature, execute() by anyone runs it as the signer and moves the nonce on (so the same request
// then fails verify), and an altered request fails verify. The JSON wire format round-trips and is
// validated; relay() reports an unreachable or garbled relayer in words. (The relayer itself is
// tested in workers/src/relayer.)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, getAddress, type Abi, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { publicClientFor, walletClientFor } from '../clients.ts';
import { REPO_ROOT } from '../config.ts';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '../testing/anvil.ts';
import {
  forwardRequestSchema,
  forwardRequestToJson,
  forwarderAbi,
  forwarderDomain,
  forwarderNonce,
  relay,
  RelayRefusedError,
  signForwardRequest,
} from './forwarder.ts';

const CHAIN = 31337;
const artifact = (name: string): { abi: Abi; bytecode: Hex } => {
  const a = JSON.parse(readFileSync(join(REPO_ROOT, 'contracts', 'out', `${name}.sol`, `${name}.json`), 'utf8')) as { abi: Abi; bytecode: { object: Hex } };
  return { abi: a.abi, bytecode: a.bytecode.object };
};
const Target = artifact('RelayTarget');

let anvil: AnvilInstance;
let client: ReturnType<typeof publicClientFor>;
let wallet: ReturnType<typeof walletClientFor>;
let forwarder: Address;
let target: Address;
const ping = (v: bigint) => encodeFunctionData({ abi: Target.abi, functionName: 'ping', args: [v] });
const soon = () => Math.floor(Date.now() / 1000) + 600;

beforeAll(async () => {
  anvil = await startAnvil();
  client = publicClientFor(anvil.rpcUrl, CHAIN);
  wallet = walletClientFor(anvil.rpcUrl, CHAIN, ANVIL_ACCOUNTS[0]!.privateKey);
  const deploy = async (a: { abi: Abi; bytecode: Hex }, args: readonly unknown[]) =>
    getAddress((await client.waitForTransactionReceipt({ hash: await wallet.deployContract({ abi: a.abi, bytecode: a.bytecode, args }) })).contractAddress!);
  forwarder = await deploy(artifact('ERC2771Forwarder'), ['ConsentryForwarder']);
  target = await deploy(Target, [forwarder]);
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
});

describe('forward requests (real ERC2771Forwarder)', () => {
  it('reads the domain the forwarder reports', async () => {
    expect(await forwarderDomain({ client, address: forwarder })).toEqual({ name: 'ConsentryForwarder', version: '1', chainId: CHAIN, verifyingContract: forwarder });
  });

  it('signs a request the forwarder verifies; executed by anyone it runs as the signer, once', async () => {
    const study = privateKeyToAccount(generatePrivateKey());
    const fwd = { client, address: forwarder };
    const request = await signForwardRequest(study, fwd, { to: target, data: ping(11n), gas: 80_000n, deadline: soon() });
    expect(request).toMatchObject({ from: study.address, to: target, value: 0n, gas: 80_000n });
    expect(await client.readContract({ address: forwarder, abi: forwarderAbi, functionName: 'verify', args: [request] })).toBe(true);
    for (const altered of [{ ...request, data: ping(12n) }, { ...request, gas: 80_001n }, { ...request, deadline: request.deadline + 1 }]) {
      expect(await client.readContract({ address: forwarder, abi: forwarderAbi, functionName: 'verify', args: [altered] })).toBe(false);
    }
    const hash = await wallet.writeContract({ address: forwarder, abi: forwarderAbi, functionName: 'execute', args: [request], gas: 300_000n });
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe('success');
    expect(await client.readContract({ address: target, abi: Target.abi, functionName: 'lastSender' })).toBe(study.address);
    expect(await forwarderNonce(fwd, study.address)).toBe(1n);
    expect(await client.readContract({ address: forwarder, abi: forwarderAbi, functionName: 'verify', args: [request] })).toBe(false);
    // The next request is signed for the new nonce and verifies.
    const next = await signForwardRequest(study, fwd, { to: target, data: ping(13n), gas: 80_000n, deadline: soon() });
    expect(await client.readContract({ address: forwarder, abi: forwarderAbi, functionName: 'verify', args: [next] })).toBe(true);
  });

  it('refuses a deadline that is not unix seconds, and no gas', async () => {
    const study = privateKeyToAccount(generatePrivateKey());
    await expect(signForwardRequest(study, { client, address: forwarder }, { to: target, data: ping(1n), gas: 1n, deadline: 1.5 })).rejects.toMatchObject({ code: 'FORWARD_REQUEST_INVALID' });
    await expect(signForwardRequest(study, { client, address: forwarder }, { to: target, data: ping(1n), gas: 0n, deadline: soon() })).rejects.toMatchObject({ code: 'FORWARD_REQUEST_INVALID' });
  });

  it('round-trips the JSON wire format and refuses malformed requests', async () => {
    const request = await signForwardRequest(privateKeyToAccount(generatePrivateKey()), { client, address: forwarder }, { to: target, data: ping(2n), gas: 50_000n, deadline: soon() });
    const json = JSON.parse(JSON.stringify(forwardRequestToJson(request))) as unknown;
    expect(forwardRequestSchema.parse(json)).toEqual(request);
    const bad = forwardRequestSchema.safeParse({ ...forwardRequestToJson(request), value: '-1', signature: '0x1234', data: '0xabc' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path[0]).sort()).toEqual(['data', 'signature', 'value']);
  });

  it('relay() reports an unreachable relayer, and a reply that is not JSON, in words', async () => {
    const request = await signForwardRequest(privateKeyToAccount(generatePrivateKey()), { client, address: forwarder }, { to: target, data: ping(2n), gas: 50_000n, deadline: soon() });
    const unreachable = await relay('http://127.0.0.1:1', request).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(RelayRefusedError);
    expect(unreachable).toMatchObject({ code: 'RELAYER_UNREACHABLE' });
    const garbled = createServer((_req, res) => res.writeHead(502).end('<html>bad gateway</html>'));
    await new Promise<void>((r) => garbled.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(garbled.address() as AddressInfo).port}`;
      await expect(relay(url, request)).rejects.toMatchObject({ code: 'RELAYER_BAD_REPLY', status: 502, message: 'The relayer answered 502 without JSON' });
    } finally {
      garbled.close();
    }
  });
});
