import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeErrorResult, UserRejectedRequestError, type Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { freePort } from '@consentry/sdk/net';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { describeError, revertErrorName } from './errors.ts';

let anvil: AnvilInstance;
let registry: Address;
let dir: string;
const patient = ANVIL_ACCOUNTS[1]!;

/** The error a real `register` simulation throws on the real chain. */
async function registerError(rpcUrl: string, key: `0x${string}`): Promise<unknown> {
  const client = publicClientFor(rpcUrl, 31337, { retryCount: 0 });
  try {
    await client.simulateContract({
      address: registry,
      abi: patientRegistryAbi,
      functionName: 'register',
      args: [key],
      account: patient.address,
    });
  } catch (err) {
    return err;
  }
  throw new Error('expected the simulation to revert');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-web-errors-'));
  anvil = await startAnvil();
  const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, deploymentsDir: dir });
  registry = deployment.contracts.PatientRegistry.address;
  const wallet = walletClientFor(anvil.rpcUrl, 31337, patient.privateKey);
  const { publicKeyHex } = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(31337)));
  const hash = await wallet.writeContract({ address: registry, abi: patientRegistryAbi, functionName: 'register', args: [publicKeyHex] });
  await publicClientFor(anvil.rpcUrl, 31337).waitForTransactionReceipt({ hash });
});

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('describeError against the real chain', () => {
  it('decodes PatientRegistry__AlreadyRegistered from a real revert into words', async () => {
    const err = await registerError(anvil.rpcUrl, `0x${'11'.repeat(32)}`);
    expect(revertErrorName(err)).toBe('PatientRegistry__AlreadyRegistered');
    expect(describeError(err, { rpcUrl: anvil.rpcUrl, stage: 'transaction' })).toBe('This wallet is already registered');
  });

  it('explains an invalid key (the zero key) without hex', async () => {
    const fresh = ANVIL_ACCOUNTS[5]!;
    const client = publicClientFor(anvil.rpcUrl, 31337, { retryCount: 0 });
    const err = await client
      .simulateContract({ address: registry, abi: patientRegistryAbi, functionName: 'register', args: [`0x${'00'.repeat(32)}`], account: fresh.address })
      .then(() => undefined, (e: unknown) => e);
    expect(revertErrorName(err)).toBe('PatientRegistry__InvalidKey');
    const words = describeError(err, { rpcUrl: anvil.rpcUrl, stage: 'transaction' });
    expect(words).toBe('The contract refused the encryption key: it is not a usable X25519 public key');
  });

  it('names the RPC URL when nothing answers there', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const err = await registerError(dead, `0x${'11'.repeat(32)}`);
    expect(describeError(err, { rpcUrl: dead, stage: 'transaction' })).toBe(`Cannot reach the chain at ${dead}`);
    const read = await publicClientFor(dead, 31337, { retryCount: 0 })
      .getBlockNumber()
      .then(() => undefined, (e: unknown) => e);
    expect(describeError(read, { rpcUrl: dead, stage: 'reading' })).toBe(`Cannot reach the chain at ${dead}`);
  });
});

describe('describeError for wallet answers', () => {
  // A browser extension is not available here; these are the errors viem builds from a wallet's
  // EIP-1193 answer (code 4001), and the raw shape some wallets return.
  it('says the patient declined, in the words of the step', () => {
    const rejected = new UserRejectedRequestError(new Error('User rejected the request.'));
    expect(describeError(rejected, { rpcUrl: 'x', stage: 'signing' })).toBe('You declined the signature');
    expect(describeError(rejected, { rpcUrl: 'x', stage: 'transaction' })).toBe('You declined the transaction');
    expect(describeError({ code: 4001, message: 'User denied' }, { rpcUrl: 'x', stage: 'signing' })).toBe('You declined the signature');
  });

  it('decodes custom errors from raw revert data a wallet passes through', () => {
    const data = encodeErrorResult({ abi: patientRegistryAbi, errorName: 'PatientRegistry__AlreadyRegistered', args: [patient.address] });
    const walletError = { code: 3, message: 'execution reverted', data };
    expect(describeError(walletError, { rpcUrl: 'x', stage: 'transaction' })).toBe('This wallet is already registered');
    const nested = new Error('outer', { cause: new Error('inner', { cause: walletError }) });
    expect(revertErrorName(nested)).toBe('PatientRegistry__AlreadyRegistered');
  });

  it('never passes long hex or stack lines through, even for unknown errors', () => {
    const err = new Error(`Something odd with 0x${'ab'.repeat(32)} happened\n    at foo (bar.js:1:1)`);
    const words = describeError(err, { rpcUrl: 'x', stage: 'transaction' });
    expect(words).toBe('The transaction failed: Something odd with … happened');
    expect(describeError(undefined, { rpcUrl: 'x', stage: 'reading' })).toBe('Something went wrong');
  });
});
