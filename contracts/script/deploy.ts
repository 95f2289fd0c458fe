/**
 * Deploys Consentry's contracts and writes `deployments/<chainId>.json`.
 * Idempotent: a recorded deployment whose runtime code is on the chain is reused as is;
 * otherwise (a fresh chain, changed code) the contracts are deployed again. Runtime code is compared
 * with its immutables masked out (they hold constructor arguments) and its linked libraries filled
 * in; a contract whose constructor names another (AccessGrants → PatientRegistry,
 * OrganizationRegistry), or that is linked against a library (IssuerRegistry → PoseidonT3), is
 * deployed again whenever that one is.
 *
 * Libraries with public functions (PoseidonT3) are deployed like contracts and linked into the
 * bytecode of those that use them, at the places the artifact's linkReferences name.
 *
 * Roles: the deployer is the admin of OrganizationRegistry, IssuerRegistry and EligibilityVerifier
 * and owner of ReleaseCommittee; on the local chain (31337) it is also an accreditor of organisations
 * and of credential issuers, so demos and tests can accredit them. StudyRegistry is granted
 * EligibilityVerifier's CONSUMER_ROLE and ConsentToken's MINTER_ROLE, and the ConsentToken's hooks
 * are set to the StudyMarket (all checked on every run, done when missing). The ERC2771Forwarder
 * ("Consentry Forwarder") is recorded as `Forwarder`; TestToken is deployed on the local chain only.
 *
 * CLI: `node --import tsx contracts/script/deploy.ts` (RPC_URL, CHAIN_ID, DEPLOYER_PRIVATE_KEY from the env).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getAddress, keccak256, zeroAddress, type Abi, type Address, type Hex } from 'viem';
import { assertChain, publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { loadConfig, REPO_ROOT } from '@consentry/sdk/config';
import { ConsentryError } from '@consentry/sdk/errors';
import {
  deploymentFile,
  deploymentSchema,
  readDeployment,
  writeDeployment,
  type ContractName,
  type Deployment,
} from '@consentry/sdk/deployment';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';

type Span = { start: number; length: number };
/** Where the compiler left a library's address out: source file → library name → byte ranges. */
type LinkReferences = Record<string, Record<string, Span[]>>;

interface Artifact {
  abi: Abi;
  /** Creation code; may hold `__$…$__` placeholders where `links` says. */
  bytecode: string;
  deployedBytecode: string;
  /** Byte ranges of the runtime code that the constructor fills in (immutables). */
  immutables: ReadonlyArray<Span>;
  links: LinkReferences;
  deployedLinks: LinkReferences;
}

function readArtifact(name: string): Artifact {
  const file = join(REPO_ROOT, 'contracts', 'out', `${name}.sol`, `${name}.json`);
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      abi: Abi;
      bytecode: { object: string; linkReferences?: LinkReferences };
      deployedBytecode: {
        object: string;
        linkReferences?: LinkReferences;
        immutableReferences?: Record<string, Span[]>;
      };
    };
    return {
      abi: json.abi,
      bytecode: json.bytecode.object,
      deployedBytecode: json.deployedBytecode.object,
      immutables: Object.values(json.deployedBytecode.immutableReferences ?? {}).flat(),
      links: json.bytecode.linkReferences ?? {},
      deployedLinks: json.deployedBytecode.linkReferences ?? {},
    };
  } catch (cause) {
    throw new ConsentryError('ARTIFACT_MISSING', `No build of ${name} at ${file}: run \`npm run build:contracts\``, {
      cause,
    });
  }
}

/** The libraries an artifact is linked against, by name. */
const librariesOf = (artifact: Artifact): string[] =>
  [...new Set(Object.values(artifact.links).flatMap((libs) => Object.keys(libs)))];

/** `code` with every library placeholder replaced by that library's deployed address. */
export function linkBytecode(code: string, links: LinkReferences, addresses: Readonly<Record<string, Address>>): Hex {
  let hex = code.startsWith('0x') ? code.slice(2) : code;
  for (const libs of Object.values(links)) {
    for (const [library, spans] of Object.entries(libs)) {
      const address = addresses[library];
      if (!address) throw new ConsentryError('DEPLOY_FAILED', `The bytecode needs library ${library}, which is not deployed`);
      for (const { start, length } of spans) {
        hex = hex.slice(0, start * 2) + address.slice(2).toLowerCase() + hex.slice((start + length) * 2);
      }
    }
  }
  if (!/^[0-9a-f]*$/i.test(hex)) throw new ConsentryError('DEPLOY_FAILED', 'The bytecode still has unlinked library placeholders');
  return `0x${hex}`;
}

export interface DeployOptions {
  rpcUrl: string;
  privateKey: Hex;
  /** Expected chain id; the deploy refuses a chain that answers with another. */
  chainId?: number;
  deploymentsDir?: string;
  log?: (line: string) => void;
}

export interface DeployResult extends Deployment {
  /** False when an existing deployment was reused. */
  deployed: boolean;
}

/** Every contract of a deployment, in deployment order (a contract after those its constructor names). */
export const CONTRACT_NAMES = [
  'PatientRegistry',
  'RecordAnchor',
  'OrganizationRegistry',
  'AccessGrants',
  'ReleaseCommittee',
  'PoseidonT3',
  'IssuerRegistry',
  'EligibilityGroth16Verifier',
  'EligibilityVerifier',
  'Forwarder',
  'ConsentToken',
  'StudyRegistry',
  'TestToken',
  'StudyMarket',
] as const satisfies readonly ContractName[];

/** Contracts whose forge artifact has another name than their deployment entry. */
const ARTIFACT_OF: Partial<Record<ContractName, string>> = { Forwarder: 'ERC2771Forwarder' };
const artifactName = (name: ContractName): string => ARTIFACT_OF[name] ?? name;

/**
 * Contracts deployed only where they belong: the test ERC-20 (its faucet mints for free) on the
 * local chain only, and the market once its source exists (it is being written alongside).
 */
const DEPLOYED_WHEN: Partial<Record<ContractName, (chainId: number) => boolean>> = {
  TestToken: (chainId) => chainId === 31337 && existsSync(join(REPO_ROOT, 'contracts', 'src', 'TestToken.sol')),
  StudyMarket: () => CONSTRUCTORS.StudyMarket !== undefined && existsSync(join(REPO_ROOT, 'contracts', 'src', 'StudyMarket.sol')),
};

type Deployed = Partial<Record<ContractName, { address: Address; startBlock: number }>>;

interface ConstructorContext {
  chainId: number;
  deployer: Address;
  /** The contracts deployed or reused so far (every earlier name in CONTRACT_NAMES). */
  contracts: Deployed;
}

/** What each constructor takes, and which contracts of the deployment it names. */
const CONSTRUCTORS: Partial<
  Record<ContractName, { dependsOn: readonly ContractName[]; args: (ctx: ConstructorContext) => readonly unknown[] }>
> = {
  OrganizationRegistry: {
    dependsOn: [],
    // admin, accreditor (none outside the local chain: accreditors are granted deliberately there)
    args: ({ chainId, deployer }) => [deployer, chainId === 31337 ? deployer : zeroAddress],
  },
  AccessGrants: {
    dependsOn: ['PatientRegistry', 'OrganizationRegistry'],
    args: ({ contracts }) => [contracts.PatientRegistry!.address, contracts.OrganizationRegistry!.address],
  },
  ReleaseCommittee: {
    dependsOn: [],
    // owner
    args: ({ deployer }) => [deployer],
  },
  IssuerRegistry: {
    dependsOn: [],
    // admin, issuer accreditor (as OrganizationRegistry: only on the local chain)
    args: ({ chainId, deployer }) => [deployer, chainId === 31337 ? deployer : zeroAddress],
  },
  EligibilityVerifier: {
    dependsOn: ['EligibilityGroth16Verifier', 'IssuerRegistry'],
    // Groth16 verifier, issuer registry, admin (grants CONSUMER_ROLE)
    args: ({ contracts, deployer }) => [
      contracts.EligibilityGroth16Verifier!.address,
      contracts.IssuerRegistry!.address,
      deployer,
    ],
  },
  Forwarder: {
    dependsOn: [],
    // the EIP-712 domain name the sdk signs forward requests under
    args: () => ['Consentry Forwarder'],
  },
  ConsentToken: {
    dependsOn: ['Forwarder'],
    // admin (grants MINTER_ROLE, sets the hooks once), trusted forwarder, metadata URI
    args: ({ contracts, deployer }) => [deployer, contracts.Forwarder!.address, ''],
  },
  StudyRegistry: {
    dependsOn: ['Forwarder', 'EligibilityVerifier', 'ConsentToken', 'OrganizationRegistry'],
    // trusted forwarder, eligibility verifier, consent token, organisation registry (its IRBs)
    args: ({ contracts }) => [
      contracts.Forwarder!.address,
      contracts.EligibilityVerifier!.address,
      contracts.ConsentToken!.address,
      contracts.OrganizationRegistry!.address,
    ],
  },
  StudyMarket: {
    dependsOn: ['StudyRegistry', 'ReleaseCommittee', 'ConsentToken', 'Forwarder'],
    // study registry, release committee, consent token (the only caller of its hooks), trusted
    // forwarder, confirmation window (seconds the committee has to confirm before the buyer may be refunded)
    args: ({ contracts }) => [
      contracts.StudyRegistry!.address,
      contracts.ReleaseCommittee!.address,
      contracts.ConsentToken!.address,
      contracts.Forwarder!.address,
      STUDY_MARKET_CONFIRMATION_WINDOW_S,
    ],
  },
};

/** How long the committee has to confirm a purchase before its buyer may be refunded: one day. */
export const STUDY_MARKET_CONFIRMATION_WINDOW_S = 86_400n;

/**
 * A library with public functions refuses to be called other than by DELEGATECALL: its runtime
 * code starts with PUSH20 <its own address>, which the artifact leaves as zeros and the creation
 * code fills in. Those 20 bytes are masked like an immutable.
 */
const CALL_PROTECTION = /^0x73[0]{40}3014/i;
const callProtection = (artifact: Artifact): Span[] =>
  CALL_PROTECTION.test(artifact.deployedBytecode) ? [{ start: 1, length: 20 }] : [];

/** Runtime code with the immutables' bytes zeroed, as the compiler leaves them in the artifact. */
function maskImmutables(code: Hex, immutables: ReadonlyArray<Span>): Hex {
  if (immutables.length === 0) return code;
  const bytes = Buffer.from(code.slice(2), 'hex');
  for (const { start, length } of immutables) bytes.fill(0, start, start + length);
  return `0x${bytes.toString('hex')}`;
}

type Clients = { client: ReturnType<typeof publicClientFor>; wallet: ReturnType<typeof walletClientFor> };

/**
 * Grants `grantee` the role `roleGetter` names on `target`, when it lacks it. Checked on every run
 * rather than only after a fresh deploy, so a reused pair that lost the role (or never got it,
 * after a failed run) is repaired.
 */
async function grantRole(
  { client, wallet }: Clients,
  target: { name: ContractName; address: Address },
  roleGetter: string,
  grantee: { name: ContractName; address: Address },
  log: (line: string) => void,
): Promise<void> {
  const { abi } = readArtifact(artifactName(target.name));
  const role = (await client.readContract({ address: target.address, abi, functionName: roleGetter })) as Hex;
  if (await client.readContract({ address: target.address, abi, functionName: 'hasRole', args: [role, grantee.address] })) {
    return;
  }
  const hash = await wallet.writeContract({
    address: target.address,
    abi,
    functionName: 'grantRole',
    args: [role, grantee.address],
    account: wallet.account,
    chain: wallet.chain,
    gas: 100_000n,
  });
  const receipt = await client.waitForTransactionReceipt({ hash, timeout: 60_000 });
  if (receipt.status !== 'success') {
    throw new ConsentryError('DEPLOY_FAILED', `Granting ${grantee.name} ${roleGetter} on ${target.name} reverted (transaction ${hash})`);
  }
  log(`granted ${grantee.name} ${grantee.address} ${roleGetter} on ${target.name} ${target.address}`);
}

/**
 * The roles between the contracts: StudyRegistry spends nullifiers through
 * EligibilityVerifier.consume (CONSUMER_ROLE) and mints ConsentTokens (MINTER_ROLE); the
 * ConsentToken tells the StudyMarket of grants and revocations (its hooks, set once).
 */
async function wireRoles(clients: Clients, contracts: Deployed, log: (line: string) => void): Promise<'ok' | 'stale-hooks'> {
  const at = (name: ContractName) => (contracts[name] ? { name, address: contracts[name].address } : undefined);
  const [verifier, token, studies, market] = [at('EligibilityVerifier'), at('ConsentToken'), at('StudyRegistry'), at('StudyMarket')];
  if (verifier && studies) await grantRole(clients, verifier, 'CONSUMER_ROLE', studies, log);
  if (token && studies) await grantRole(clients, token, 'MINTER_ROLE', studies, log);
  if (token && market) return setHooks(clients, token.address, market.address, log);
  return 'ok';
}

/** Points the ConsentToken's hooks at the market; they are set once, so a token whose hooks name another contract is stale. */
async function setHooks(
  { client, wallet }: Clients,
  token: Address,
  market: Address,
  log: (line: string) => void,
): Promise<'ok' | 'stale-hooks'> {
  const { abi } = readArtifact('ConsentToken');
  const current = getAddress((await client.readContract({ address: token, abi, functionName: 'hooks' })) as Address);
  if (current === market) return 'ok';
  if (current !== zeroAddress) return 'stale-hooks';
  const hash = await wallet.writeContract({ address: token, abi, functionName: 'setHooks', args: [market], account: wallet.account, chain: wallet.chain, gas: 100_000n });
  const receipt = await client.waitForTransactionReceipt({ hash, timeout: 60_000 });
  if (receipt.status !== 'success') throw new ConsentryError('DEPLOY_FAILED', `Setting the ConsentToken's hooks reverted (transaction ${hash})`);
  log(`set ConsentToken ${token} hooks to StudyMarket ${market}`);
  return 'ok';
}

/** Deploys (or reuses) every contract, each on its own; see the file header. */
export async function deployContracts(
  opts: DeployOptions,
  /** Deployed again even when on the chain (the ConsentToken whose set-once hooks name an older market). */
  redeploy: ReadonlySet<ContractName> = new Set(),
): Promise<DeployResult> {
  const log = opts.log ?? (() => {});
  const chainId = await assertChain(opts.rpcUrl, opts.chainId);
  const client = publicClientFor(opts.rpcUrl, chainId);
  const wallet = walletClientFor(opts.rpcUrl, chainId, opts.privateKey);
  const file = deploymentFile(chainId, opts.deploymentsDir);
  let existing: Deployment | undefined;
  try {
    existing = readDeployment(chainId, opts.deploymentsDir);
  } catch {
    existing = undefined;
  }

  const contracts: Deployed = {};
  const deployedNow = new Set<ContractName>();
  for (const name of CONTRACT_NAMES) {
    if (DEPLOYED_WHEN[name] && !DEPLOYED_WHEN[name](chainId)) continue;
    const artifact = readArtifact(artifactName(name));
    const ctor = CONSTRUCTORS[name];
    const libraries = librariesOf(artifact);
    const missing = libraries.find((l) => !(l in contracts));
    if (missing) throw new ConsentryError('DEPLOY_FAILED', `${name} is linked against ${missing}, which is not in CONTRACT_NAMES before it`);
    const libraryAddresses = Object.fromEntries(libraries.map((l) => [l, contracts[l as ContractName]!.address]));
    const recorded = redeploy.has(name) ? undefined : existing?.contracts[name];
    if (recorded) {
      const movedDependency = [...(ctor?.dependsOn ?? []), ...libraries].find((d) => deployedNow.has(d as ContractName));
      const code = movedDependency ? undefined : await client.getCode({ address: recorded.address });
      const mask = [...artifact.immutables, ...callProtection(artifact)];
      const expected = linkBytecode(artifact.deployedBytecode, artifact.deployedLinks, libraryAddresses);
      if (code && keccak256(maskImmutables(code, mask)) === keccak256(expected)) {
        contracts[name] = recorded;
        continue;
      }
      log(
        movedDependency
          ? `${name} names ${movedDependency}, which was deployed again: deploying it again`
          : `${name} in ${file} is not on this chain (or its code changed): deploying it again`,
      );
    }
    const args = ctor?.args({ chainId, deployer: wallet.account.address, contracts }) ?? [];
    const bytecode = linkBytecode(artifact.bytecode, artifact.links, libraryAddresses);
    const hash = await wallet.deployContract({ abi: artifact.abi, bytecode, args });
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 60_000 });
    if (receipt.status !== 'success' || !receipt.contractAddress) {
      throw new ConsentryError('DEPLOY_FAILED', `Deploying ${name} reverted (transaction ${hash})`);
    }
    contracts[name] = { address: getAddress(receipt.contractAddress), startBlock: Number(receipt.blockNumber) };
    log(`deployed ${name} at ${contracts[name].address} (block ${receipt.blockNumber})`);
    deployedNow.add(name);
  }
  if ((await wireRoles({ client, wallet }, contracts, log)) === 'stale-hooks') {
    if (redeploy.has('ConsentToken')) throw new ConsentryError('DEPLOY_FAILED', 'A fresh ConsentToken already has hooks');
    log('ConsentToken calls an older StudyMarket (its hooks are set once): deploying it, and what names it, again');
    return deployContracts(opts, new Set([...redeploy, 'ConsentToken']));
  }
  if (deployedNow.size === 0 && existing) {
    log(`reusing the deployment in ${file}`);
    return { ...existing, deployed: false };
  }
  const deployment = deploymentSchema.parse({
    chainId,
    startBlock: Math.min(...Object.values(contracts).map((c) => c.startBlock)),
    deployedAt: new Date().toISOString(),
    contracts,
  });
  writeDeployment(deployment, opts.deploymentsDir);
  log(`wrote ${file}`);
  return { ...deployment, deployed: true };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = loadConfig();
  const privateKey = (config.DEPLOYER_PRIVATE_KEY as Hex | undefined) ??
    (config.CHAIN_ID === 31337 ? ANVIL_ACCOUNTS[0]!.privateKey : undefined);
  if (!privateKey) {
    console.error('DEPLOYER_PRIVATE_KEY is required outside the local chain (31337).');
    process.exit(1);
  }
  deployContracts({
    rpcUrl: config.RPC_URL,
    chainId: config.CHAIN_ID,
    privateKey,
    deploymentsDir: config.DEPLOYMENTS_DIR,
    log: (l) => console.log(`deploy: ${l}`),
  }).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`deploy: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
