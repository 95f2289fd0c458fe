// The relayer process (main.ts) on a real anvil chain: started as `node --import tsx main.ts` with
// RELAYER_FORWARDER and RELAYER_ALLOW, it keeps its generated key in DATA_DIR (0600), answers
// /health, relays a signed request once funded, and logs no signer or signature; its configuration
// is refused in words (never echoing RELAYER_PRIVATE_KEY); the default allow-list takes its
// selectors from the built ABIs of the deployed marketplace contracts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, getAddress, parseEther, toFunctionSelector, type Abi, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { REPO_ROOT } from '@consentry/sdk/config';
import { ConfigError } from '@consentry/sdk/errors';
import { freePort } from '@consentry/sdk/net';
import { relay, signForwardRequest } from '@consentry/sdk/research/forwarder';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { consentTokenAbi, studyMarketAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { fundLocalRelayer, loadRelayerKey, relayerKeyFile } from './key.ts';
import { builtAbi, defaultAllowList, parseAllowList, parseRelayerEnv, selectorsOf } from './main.ts';

const CHAIN = 31337;
const artifact = (name: string): { abi: Abi; bytecode: Hex } => {
  const a = JSON.parse(readFileSync(join(REPO_ROOT, 'contracts', 'out', `${name}.sol`, `${name}.json`), 'utf8')) as { abi: Abi; bytecode: { object: Hex } };
  return { abi: a.abi, bytecode: a.bytecode.object };
};
const Target = artifact('RelayTarget');

let anvil: AnvilInstance;
let client: ReturnType<typeof publicClientFor>;
let forwarder: Address;
let target: Address;
let dir: string;

async function deploy(a: { abi: Abi; bytecode: Hex }, args: readonly unknown[]): Promise<Address> {
  const wallet = walletClientFor(anvil.rpcUrl, CHAIN, ANVIL_ACCOUNTS[0]!.privateKey);
  const hash = await wallet.deployContract({ abi: a.abi, bytecode: a.bytecode, args });
  return getAddress((await client.waitForTransactionReceipt({ hash })).contractAddress!);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-relayer-'));
  anvil = await startAnvil();
  client = publicClientFor(anvil.rpcUrl, CHAIN);
  forwarder = await deploy(artifact('ERC2771Forwarder'), ['ConsentryForwarder']);
  target = await deploy(Target, [forwarder]);
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('relayer configuration', () => {
  it('parses an allow-list of addresses and function signatures, and refuses a malformed one in words', () => {
    const [t] = parseAllowList(` ${target.toLowerCase()}:ping(uint256)|other() `);
    expect(t!.address).toBe(target);
    expect(t!.selectors).toEqual([toFunctionSelector('ping(uint256)'), toFunctionSelector('other()')]);
    expect(() => parseAllowList('0x12:ping(uint256)')).toThrow(/RELAYER_ALLOW: "0x12:ping\(uint256\)" is not/);
    expect(() => parseAllowList(`${target}:ping`)).toThrow(/not a function signature/);
  });

  it('builds the default allow-list from the deployment and the built ABIs (selectors of every overload)', () => {
    const registryAbi = builtAbi('StudyRegistry')!;
    const enroll = selectorsOf(registryAbi, 'enroll');
    expect(enroll.length).toBeGreaterThan(0);
    const allow = defaultAllowList({ StudyRegistry: { address: target }, PatientRegistry: { address: forwarder } });
    expect(allow).toEqual([{ address: target, selectors: enroll, name: 'StudyRegistry.enroll' }]);
    // A contract without the function, or not built, adds nothing.
    expect(defaultAllowList({ ConsentToken: { address: target } }, () => Target.abi)).toEqual([]);
    expect(defaultAllowList({ StudyMarket: { address: target } }, () => undefined)).toEqual([]);
  });

  it('relays enroll, revoke and claim of the deployed marketplace by default (contracts/script/deploy.ts)', async () => {
    const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: CHAIN, deploymentsDir: join(dir, 'deployments') });
    const c = deployment.contracts;
    expect(c.Forwarder).toBeDefined();
    const allow = defaultAllowList(c);
    expect(allow).toEqual([
      { address: c.StudyRegistry!.address, selectors: selectorsOf(studyRegistryAbi, 'enroll'), name: 'StudyRegistry.enroll' },
      { address: c.ConsentToken!.address, selectors: selectorsOf(consentTokenAbi, 'revoke'), name: 'ConsentToken.revoke' },
      { address: c.StudyMarket!.address, selectors: selectorsOf(studyMarketAbi, 'claim'), name: 'StudyMarket.claim' },
    ]);
    for (const t of allow) expect(t.selectors.length).toBeGreaterThan(0);
  }, 120_000);

  it('refuses bad settings by name, never echoing the key', () => {
    expect(parseRelayerEnv({}).RELAYER_PORT).toBe(4380);
    const secret = '0xnot-a-key-but-secret';
    let err: unknown;
    try {
      parseRelayerEnv({ RELAYER_PRIVATE_KEY: secret, RELAYER_MAX_GAS: '10' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/RELAYER_PRIVATE_KEY.*\n.*RELAYER_MAX_GAS/s);
    expect((err as Error).message).not.toContain(secret);
    expect(() => loadRelayerKey({ privateKey: secret, dataDir: dir })).toThrow(ConfigError);
  });

  it('keeps a generated key in DATA_DIR (0600) and funds it on the local chain only when low', async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'consentry-relayer-key-'));
    try {
      const first = loadRelayerKey({ dataDir: keyDir });
      expect(loadRelayerKey({ dataDir: keyDir }).address).toBe(first.address);
      expect(statSync(relayerKeyFile(keyDir)).mode & 0o777).toBe(0o600);
      const given = generatePrivateKey();
      expect(loadRelayerKey({ privateKey: given, dataDir: keyDir })).toMatchObject({ address: privateKeyToAccount(given).address, source: 'RELAYER_PRIVATE_KEY' });
      const funding = { rpcUrl: anvil.rpcUrl, chainId: CHAIN, funderKey: ANVIL_ACCOUNTS[0]!.privateKey, address: first.address };
      expect(await fundLocalRelayer(funding)).toBe(parseEther('100'));
      expect(await client.getBalance({ address: first.address })).toBe(parseEther('100'));
      expect(await fundLocalRelayer(funding)).toBe(0n);
      await expect(fundLocalRelayer({ ...funding, chainId: 1 })).rejects.toThrow(/Only the local chain/);
    } finally {
      rmSync(keyDir, { recursive: true, force: true });
    }
  });
});

describe('relayer process', () => {
  it('starts with its own key, reports it unfunded, relays once funded, and logs no signer', async () => {
    const port = await freePort();
    let output = '';
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'workers/src/relayer/main.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        RPC_URL: anvil.rpcUrl,
        CHAIN_ID: String(CHAIN),
        DATA_DIR: dir,
        DEPLOYMENTS_DIR: dir,
        RELAYER_PORT: String(port),
        RELAYER_PRIVATE_KEY: '',
        RELAYER_FORWARDER: forwarder,
        RELAYER_ALLOW: `${target}:ping(uint256)`,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const url = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('relayer listening')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the relayer did not start: ${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const key = loadRelayerKey({ dataDir: dir });
      expect(output).toContain('holds too little ether');
      expect(statSync(relayerKeyFile(dir)).mode & 0o777).toBe(0o600);
      const health = (await (await fetch(`${url}/health`)).json()) as { address: string; funded: boolean };
      expect(health).toMatchObject({ address: key.address, funded: false });

      await fundLocalRelayer({ rpcUrl: anvil.rpcUrl, chainId: CHAIN, funderKey: ANVIL_ACCOUNTS[0]!.privateKey, address: key.address });
      const study = privateKeyToAccount(generatePrivateKey());
      const data = encodeFunctionData({ abi: Target.abi, functionName: 'ping', args: [42n] });
      const request = await signForwardRequest(study, { client, address: forwarder }, { to: target, data, gas: 100_000n, deadline: Math.floor(Date.now() / 1000) + 600 });
      expect((await relay(url, request)).status).toBe('success');
      expect(await client.readContract({ address: target, abi: Target.abi, functionName: 'lastSender' })).toBe(study.address);
      await expect(relay(url, request)).rejects.toMatchObject({ code: 'NONCE_USED' });

      // The log line follows the answer: give it a moment.
      for (let i = 0; i < 50 && !output.includes('"code":"NONCE_USED"'); i++) await new Promise((r) => setTimeout(r, 100));
      for (const secretish of [study.address.slice(2).toLowerCase(), request.signature.slice(2, 40), key.privateKey.slice(2)]) {
        expect(output.toLowerCase()).not.toContain(secretish.toLowerCase());
      }
      expect(output).toMatch(/"status":200/);
      expect(output).toMatch(/"code":"NONCE_USED"/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 90_000);
});
