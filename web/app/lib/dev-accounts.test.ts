import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, type Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfig, createStorage, http, type Config } from 'wagmi';
import { connect, disconnect, getAccount, readContract, reconnect, signMessage, signTypedData } from 'wagmi/actions';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { chainFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { devAccount, devAccountConnector, DevAccountError } from './dev-accounts.ts';
import { signUp, type SignUpProgress } from './signup.ts';

let anvil: AnvilInstance;
let registry: Address;
let dir: string;

/** A wagmi config like the browser's, with a storage that outlives the config (a reload). */
function browserLike(rpcUrl: string, storage: Map<string, string>, indexes = [1, 2, 3]): Config {
  const chain = chainFor(31337, rpcUrl);
  return createConfig({
    chains: [chain],
    connectors: indexes.map((i) => devAccountConnector({ index: i, address: ANVIL_ACCOUNTS[i]!.address, rpcUrl })),
    transports: { [chain.id]: http(rpcUrl) },
    storage: createStorage({
      storage: {
        getItem: (k) => storage.get(k) ?? null,
        setItem: (k, v) => void storage.set(k, v),
        removeItem: (k) => void storage.delete(k),
      },
    }),
    multiInjectedProviderDiscovery: false,
    pollingInterval: 200,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-web-dev-'));
  anvil = await startAnvil();
  registry = (await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, deploymentsDir: dir }))
    .contracts.PatientRegistry.address;
});

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('devAccount', () => {
  it("derives exactly anvil's default accounts from the public mnemonic", () => {
    for (const [i, { address, privateKey }] of ANVIL_ACCOUNTS.entries()) {
      const account = devAccount(i, address);
      expect(account.address).toBe(address);
      expect(bytesToHex(account.getHdKey().privateKey!)).toBe(privateKey);
    }
  });

  it('refuses, in words, when the server announces another address', () => {
    expect(() => devAccount(1, ANVIL_ACCOUNTS[2]!.address)).toThrow(DevAccountError);
    expect(() => devAccount(1, ANVIL_ACCOUNTS[2]!.address)).toThrow(/does not use anvil's default accounts/);
  });
});

describe('devAccountConnector with wagmi on a real anvil', () => {
  it('connects, signs up through the same code as the page, and registers the derived key', async () => {
    const storage = new Map<string, string>();
    const config = browserLike(anvil.rpcUrl, storage);
    const connector = config.connectors.find((c) => c.id === 'dev-account-2')!;
    const result = await connect(config, { connector });
    expect(result.accounts).toEqual([ANVIL_ACCOUNTS[2]!.address]);
    expect(getAccount(config).address).toBe(ANVIL_ACCOUNTS[2]!.address);

    const progress: SignUpProgress[] = [];
    await signUp(
      { config, account: ANVIL_ACCOUNTS[2]!.address, chainId: 31337, registry, rpcUrl: anvil.rpcUrl },
      (p) => progress.push(p),
    );
    expect(progress.map((p) => p.stage)).toEqual(['signing', 'sending', 'pending', 'confirmed']);

    // The key registered is the one the sdk derives from the same wallet's signature elsewhere.
    const reference = walletClientFor(anvil.rpcUrl, 31337, ANVIL_ACCOUNTS[2]!.privateKey);
    const expected = deriveEncryptionKeyPair(await reference.signTypedData(keyDerivationTypedData(31337)));
    const onChain = await readContract(config, {
      address: registry,
      abi: patientRegistryAbi,
      functionName: 'encryptionKeyOf',
      args: [ANVIL_ACCOUNTS[2]!.address],
    });
    expect(onChain).toBe(expected.publicKeyHex);
    const confirmed = progress.at(-1);
    expect(confirmed?.stage === 'confirmed' && confirmed.blockNumber > 0n).toBe(true);

    // Signing up again fails in words at the transaction step, before anything is sent.
    const again: SignUpProgress[] = [];
    await signUp({ config, account: ANVIL_ACCOUNTS[2]!.address, chainId: 31337, registry, rpcUrl: anvil.rpcUrl }, (p) => again.push(p));
    expect(again.at(-1)).toEqual({ stage: 'failed', reason: 'This wallet is already registered', during: 'transaction' });

    // Only the connector id is remembered, never key material.
    expect([...storage.values()].join(' ')).not.toMatch(/[0-9a-f]{64}/i);
  });

  it('signs in the page even when the caller names the account by address: nothing asks the node to sign', async () => {
    const config = browserLike(anvil.rpcUrl, new Map(), [4]);
    await connect(config, { connector: config.connectors.find((c) => c.id === 'dev-account-4')! });
    const sent: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      if (typeof init?.body === 'string') sent.push(init.body);
      return realFetch(input, init);
    }) as typeof fetch;
    try {
      const address = ANVIL_ACCOUNTS[4]!.address;
      const typed = keyDerivationTypedData(31337);
      const signature = await signTypedData(config, { account: address, ...typed });
      expect(signature).toBe(await devAccount(4).signTypedData(typed));
      expect(await signMessage(config, { account: address, message: 'hello' })).toBe(await devAccount(4).signMessage({ message: 'hello' }));
      expect(sent.join('\n')).not.toMatch(/eth_signTypedData|personal_sign|eth_sign"/);
    } finally {
      globalThis.fetch = realFetch;
    }
  });

  it('reconnects after a reload only while connected, and never after disconnect', async () => {
    const storage = new Map<string, string>();
    const first = browserLike(anvil.rpcUrl, storage);
    await connect(first, { connector: first.connectors.find((c) => c.id === 'dev-account-3')! });

    const reloaded = browserLike(anvil.rpcUrl, storage);
    await reconnect(reloaded);
    expect(getAccount(reloaded).address).toBe(ANVIL_ACCOUNTS[3]!.address);
    expect(getAccount(reloaded).connector?.id).toBe('dev-account-3');

    await disconnect(reloaded);
    expect(getAccount(reloaded).status).toBe('disconnected');
    const again = browserLike(anvil.rpcUrl, storage);
    await reconnect(again);
    expect(getAccount(again).status).toBe('disconnected');
  });
});
