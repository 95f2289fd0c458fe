// Test and benchmark helper: a real chain with the contracts deployed, a 3-member committee (k = 2)
// behind three gateways, a registered patient whose records are imported and shared, and accredited
// requester organisations. Everything goes through the real contracts and services. With
// `{ processes: true }` each gateway is its own process (workers/src/gateway/main.ts, as `npm start`
// runs them) instead of running in the caller's process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, keccak256, parseEther, toHex, type Abi, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { deployContracts, type DeployResult } from '../../../../contracts/script/deploy.ts';
import { accessGrantsAbi, organizationRegistryAbi, patientRegistryAbi, releaseCommitteeAbi } from '@consentry/sdk/abi/generated';
import { fetchDataKey, readCommittee, releaseTypedData, type GatewayRef } from '@consentry/sdk/access/release';
import { createFsBlobStore } from '@consentry/sdk/blobs/fs';
import type { BlobStore } from '@consentry/sdk/blobs/types';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { REPO_ROOT } from '@consentry/sdk/config';
import { freePort } from '@consentry/sdk/net';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { categoryMask, type Category } from '@consentry/sdk/records/categories';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { toBase64 } from '@consentry/sdk/records/versions';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { RecordsService } from '../../records/service.ts';
import { Vault } from '../../records/vault.ts';
import { createGateway, type Gateway } from '../gateway.ts';
import { startGatewayServer, type GatewayServer } from '../server.ts';

export const CHAIN = 31337;
export const DAY = 86_400;

export interface Requester {
  privateKey: Hex;
  address: Address;
  keys: { secretKey: Uint8Array; publicKeyHex: Hex };
}

export interface AccessFixture {
  anvil: AnvilInstance;
  deployment: DeployResult;
  dir: string;
  vault: Vault;
  blobs: BlobStore;
  records: RecordsService;
  patient: { privateKey: Hex; address: Address };
  /** The in-process gateways (empty with `processes: true`). */
  gateways: Gateway[];
  /** The gateway processes (with `processes: true`), for their pid. */
  children: ChildProcess[];
  servers: GatewayServer[];
  refs: GatewayRef[];
  /** Sends a transaction and waits for a successful receipt. */
  send(privateKey: Hex, address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Promise<void>;
  /** An accredited organisation of `kind` (0 = Provider, 3 = Insurer) with its own X25519 key. */
  organization(kind: number, privateKey?: Hex): Promise<Requester>;
  /** `requester` asks, the patient approves `approved` for `days`; returns the request id. */
  grant(requester: Requester, asked: Category[], approved: Category[], days: number): Promise<bigint>;
  openGateway(i: number, port?: number): Promise<void>;
  stopGateway(i: number): Promise<void>;
  fetchKey(requester: Requester, recordId: Hex, gateways?: GatewayRef[], fetchImpl?: typeof fetch): ReturnType<typeof fetchDataKey>;
  close(): Promise<void>;
}

export interface AccessFixtureOptions {
  /** Run each gateway as its own process (workers/src/gateway/main.ts), as `npm start` does. */
  processes?: boolean;
  /** Extra environment and node options (say `--cpu-prof`) for the gateway processes. */
  gatewayEnv?: Record<string, string>;
  gatewayNodeArgs?: string[];
}

export async function startAccessFixture(resources: FhirResource[], opts: AccessFixtureOptions = {}): Promise<AccessFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'consentry-access-'));
  const anvil = await startAnvil();
  const deployer = ANVIL_ACCOUNTS[0]!;
  const patient = ANVIL_ACCOUNTS[1]!;
  const memberAccts = ANVIL_ACCOUNTS.slice(4, 7);
  const memberSecrets = memberAccts.map(() => randomBytes(32));
  const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: CHAIN, deploymentsDir: dir });
  const c = deployment.contracts as Required<typeof deployment.contracts>;
  const client = publicClientFor(anvil.rpcUrl, CHAIN);
  const send = async (privateKey: Hex, address: Address, abi: Abi, functionName: string, args: readonly unknown[]) => {
    const wallet = walletClientFor(anvil.rpcUrl, CHAIN, privateKey);
    const hash = await wallet.writeContract({ address, abi, functionName, args, gas: 1_000_000n } as Parameters<typeof wallet.writeContract>[0]);
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`${functionName} reverted (${hash})`);
  };
  for (const [i, m] of memberAccts.entries()) {
    await send(deployer.privateKey, c.ReleaseCommittee.address, releaseCommitteeAbi, 'addMember', [m.address, bytesToHex(x25519.getPublicKey(memberSecrets[i]!)), i === 2 ? 2 : 1]);
  }
  const patientKeys = deriveEncryptionKeyPair(await privateKeyToAccount(patient.privateKey).signTypedData(keyDerivationTypedData(CHAIN)));
  await send(patient.privateKey, c.PatientRegistry.address, patientRegistryAbi, 'register', [patientKeys.publicKeyHex]);
  const blobs = await createFsBlobStore(join(dir, 'blobs'));
  const vault = await Vault.open({ dataDir: dir });
  const records = new RecordsService({ vault, blobs, patient: patient.address, keys: patientKeys });
  await records.importResources(resources);
  await records.shareWithCommittee(await readCommittee(client, c.ReleaseCommittee.address));

  const gateways: Gateway[] = [];
  const servers: GatewayServer[] = [];
  const children: ChildProcess[] = [];
  const openInProcess = async (i: number, port: number) => {
    gateways[i] = createGateway({ memberPrivateKey: memberAccts[i]!.privateKey, memberSecretKey: memberSecrets[i]!, vault, blobs, rpcUrl: anvil.rpcUrl, deployment, logFile: join(dir, `gateway-${i}.sqlite`) });
    servers[i] = await startGatewayServer(gateways[i]!, { port });
  };
  const openProcess = async (i: number, port: number) => {
    const keyFile = join(dir, `member-${i}.json`);
    writeFileSync(keyFile, JSON.stringify({ privateKey: memberAccts[i]!.privateKey, x25519SecretKey: toBase64(memberSecrets[i]!) }), { mode: 0o600 });
    const bound = port || (await freePort());
    const env = { ...process.env, DATA_DIR: dir, DEPLOYMENTS_DIR: dir, RPC_URL: anvil.rpcUrl, CHAIN_ID: String(CHAIN), DATABASE_URL: '', BLOB_STORE: 'fs', LOG_LEVEL: 'warn', GATEWAY_KEY_FILE: keyFile, GATEWAY_PORT: String(bound), ...opts.gatewayEnv };
    const child = spawn(process.execPath, [...(opts.gatewayNodeArgs ?? []), '--import', 'tsx', 'workers/src/gateway/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    children[i] = child;
    const url = `http://127.0.0.1:${bound}`;
    for (const deadline = Date.now() + 60_000; ; ) {
      if (child.exitCode !== null) throw new Error(`gateway ${i} exited at start-up (exit ${child.exitCode})`);
      const up = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline) throw new Error(`gateway ${i} did not answer on ${url} within 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    servers[i] = { url, close: async () => undefined };
  };
  const openGateway = (i: number, port = 0) => (opts.processes ? openProcess(i, port) : openInProcess(i, port));
  const stopGateway = async (i: number) => {
    const child = children[i];
    if (child) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      return;
    }
    await servers[i]!.close();
    gateways[i]!.close();
  };
  for (let i = 0; i < memberAccts.length; i++) await openGateway(i);
  const refs = memberAccts.map((m, i) => ({ url: servers[i]!.url, member: m.address }));

  let orgs = 0;
  const organization = async (kind: number, privateKey: Hex = generatePrivateKey()): Promise<Requester> => {
    const address = privateKeyToAccount(privateKey).address;
    if ((await client.getBalance({ address })) < parseEther('1')) {
      const funder = walletClientFor(anvil.rpcUrl, CHAIN, deployer.privateKey);
      await client.waitForTransactionReceipt({ hash: await funder.sendTransaction({ to: address, value: parseEther('10') }) });
    }
    await send(privateKey, c.OrganizationRegistry.address, organizationRegistryAbi, 'register', [kind, keccak256(toHex(`org-${++orgs}`)), keccak256(toHex('meta'))]);
    await send(deployer.privateKey, c.OrganizationRegistry.address, organizationRegistryAbi, 'accredit', [address, BigInt(Math.floor(Date.now() / 1000) + 365 * DAY)]);
    const secretKey = randomBytes(32);
    return { privateKey, address, keys: { secretKey, publicKeyHex: bytesToHex(x25519.getPublicKey(secretKey)) } };
  };
  const grant = async (requester: Requester, asked: Category[], approved: Category[], days: number) => {
    await send(requester.privateKey, c.AccessGrants.address, accessGrantsAbi, 'requestAccess', [patient.address, categoryMask(asked), 0, 30 * DAY]);
    const id = await client.readContract({ address: c.AccessGrants.address, abi: accessGrantsAbi, functionName: 'requestCount' });
    await send(patient.privateKey, c.AccessGrants.address, accessGrantsAbi, 'approve', [id, categoryMask(approved), days * DAY]);
    return id;
  };
  const fetchKey = async (requester: Requester, recordId: Hex, gatewaysUp: GatewayRef[] = refs, fetchImpl?: typeof fetch) =>
    fetchDataKey({
      ...(fetchImpl ? { fetchImpl } : {}),
      gateways: gatewaysUp,
      committee: await readCommittee(client, c.ReleaseCommittee.address),
      chainId: CHAIN,
      verifyingContract: c.AccessGrants.address,
      requester: requester.address,
      requesterKeys: requester.keys,
      sign: (typed: ReturnType<typeof releaseTypedData>) => privateKeyToAccount(requester.privateKey).signTypedData(typed),
      patient: patient.address,
      recordId,
      version: 1,
    });
  return {
    anvil,
    deployment,
    dir,
    vault,
    blobs,
    records,
    patient,
    gateways,
    children,
    servers,
    refs,
    send,
    organization,
    grant,
    openGateway,
    stopGateway,
    fetchKey,
    async close() {
      for (let i = 0; i < servers.length; i++) await stopGateway(i).catch(() => undefined);
      await vault.close();
      await anvil.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
