import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAddress, type Address } from 'viem';
import { z } from 'zod';
import { ConsentryError } from './errors.ts';
import { REPO_ROOT } from './config.ts';

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 20-byte hex address')
  .transform((a) => getAddress(a));

const contractEntry = z.object({ address, startBlock: z.number().int().nonnegative() });

/** `deployments/<chainId>.json`: where the contracts live on one chain and from which block to index. */
export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  startBlock: z.number().int().nonnegative(),
  deployedAt: z.string().optional(),
  // Contracts added by later capabilities are optional here, so a deployment file written before
  // them still reads; `deployContracts` deploys whatever a file lacks.
  contracts: z.object({
    PatientRegistry: contractEntry,
    RecordAnchor: contractEntry.optional(),
    OrganizationRegistry: contractEntry.optional(),
    AccessGrants: contractEntry.optional(),
    ReleaseCommittee: contractEntry.optional(),
    // Zero-knowledge eligibility (docs/decisions/020-on-chain-eligibility.md). PoseidonT3 is the
    // library IssuerRegistry is linked against.
    PoseidonT3: contractEntry.optional(),
    IssuerRegistry: contractEntry.optional(),
    EligibilityGroth16Verifier: contractEntry.optional(),
    EligibilityVerifier: contractEntry.optional(),
    StudyRegistry: contractEntry.optional(),
    // The research marketplace (docs/decisions/022-studies-and-consent-tokens.md). Forwarder is
    // OpenZeppelin's ERC2771Forwarder that relays gasless enrollments, revocations and claims;
    // TestToken (the local chain's payment token, with a faucet) exists on 31337 only.
    Forwarder: contractEntry.optional(),
    ConsentToken: contractEntry.optional(),
    TestToken: contractEntry.optional(),
    StudyMarket: contractEntry.optional(),
  }),
});

export type Deployment = z.infer<typeof deploymentSchema>;
export type ContractName = keyof Deployment['contracts'];
export type { Address };

export class DeploymentNotFoundError extends ConsentryError {
  constructor(chainId: number, file: string) {
    super('DEPLOYMENT_NOT_FOUND', `No deployment for chain ${chainId} (${file}). Run \`npm start\` to deploy.`);
    this.name = 'DeploymentNotFoundError';
  }
}

export const deploymentFile = (chainId: number, dir: string = join(REPO_ROOT, 'deployments')): string =>
  join(dir, `${chainId}.json`);

/** Reads and validates `deployments/<chainId>.json`. */
export function readDeployment(chainId: number, dir?: string): Deployment {
  const file = deploymentFile(chainId, dir);
  if (!existsSync(file)) throw new DeploymentNotFoundError(chainId, file);
  const parsed = deploymentSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new ConsentryError('DEPLOYMENT_INVALID', `${file} is not a valid deployment: ${parsed.error.message}`);
  }
  if (parsed.data.chainId !== chainId) {
    throw new ConsentryError('DEPLOYMENT_INVALID', `${file} is for chain ${parsed.data.chainId}, not ${chainId}`);
  }
  return parsed.data;
}

/** Writes a deployment atomically (temp file + rename), so a crash never leaves half a file. */
export function writeDeployment(deployment: Deployment, dir?: string): string {
  const file = deploymentFile(deployment.chainId, dir);
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(deploymentSchema.parse(deployment), null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}
