/**
 * Deploys Consentry's contracts and writes `deployments/<chainId>.json`.
 * Idempotent: a recorded deployment whose runtime code is on the chain is reused as is;
 * otherwise (a fresh chain, changed code) the contracts are deployed again. Runtime code is compared
 * with its immutables masked out (they hold constructor arguments); a contract whose constructor
 * names another (AccessGrants → PatientRegistry, OrganizationRegistry) is deployed again whenever
 * that one is.
 *
 * Roles: the deployer is the admin of OrganizationRegistry and owner of ReleaseCommittee; on the
 * local chain (31337) it is also an accreditor, so demos and tests can accredit organisations.
 *
 * CLI: `node --import tsx contracts/script/deploy.ts` (RPC_URL, CHAIN_ID, DEPLOYER_PRIVATE_KEY from the env).
 */
import { readFileSync } from 'node:fs';
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

interface Artifact {
  abi: Abi;
  bytecode: Hex;
  deployedBytecode: Hex;
  /** Byte ranges of the runtime code that the constructor fills in (immutables). */
  immutables: ReadonlyArray<{ start: number; length: number }>;
}

function readArtifact(name: string): Artifact {
  const file = join(REPO_ROOT, 'contracts', 'out', `${name}.sol`, `${name}.json`);
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      abi: Abi;
      bytecode: { object: Hex };
      deployedBytecode: {
        object: Hex;
        immutableReferences?: Record<string, Array<{ start: number; length: number }>>;
      };
    };
    return {
      abi: json.abi,
      bytecode: json.bytecode.object,
      deployedBytecode: json.deployedBytecode.object,
      immutables: Object.values(json.deployedBytecode.immutableReferences ?? {}).flat(),
    };
  } catch (cause) {
    throw new ConsentryError('ARTIFACT_MISSING', `No build of ${name} at ${file}: run \`npm run build:contracts\``, {
      cause,
    });
  }
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
] as const satisfies readonly ContractName[];

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
};

/** Runtime code with the immutables' bytes zeroed, as the compiler leaves them in the artifact. */
function maskImmutables(code: Hex, immutables: Artifact['immutables']): Hex {
  if (immutables.length === 0) return code;
  const bytes = Buffer.from(code.slice(2), 'hex');
  for (const { start, length } of immutables) bytes.fill(0, start, start + length);
  return `0x${bytes.toString('hex')}`;
}

/** Deploys (or reuses) every contract, each on its own; see the file header. */
export async function deployContracts(opts: DeployOptions): Promise<DeployResult> {
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
    const artifact = readArtifact(name);
    const ctor = CONSTRUCTORS[name];
    const recorded = existing?.contracts[name];
    if (recorded) {
      const movedDependency = ctor?.dependsOn.find((d) => deployedNow.has(d));
      const code = movedDependency ? undefined : await client.getCode({ address: recorded.address });
      if (code && keccak256(maskImmutables(code, artifact.immutables)) === keccak256(artifact.deployedBytecode)) {
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
    const hash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args });
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 60_000 });
    if (receipt.status !== 'success' || !receipt.contractAddress) {
      throw new ConsentryError('DEPLOY_FAILED', `Deploying ${name} reverted (transaction ${hash})`);
    }
    contracts[name] = { address: getAddress(receipt.contractAddress), startBlock: Number(receipt.blockNumber) };
    log(`deployed ${name} at ${contracts[name].address} (block ${receipt.blockNumber})`);
    deployedNow.add(name);
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
