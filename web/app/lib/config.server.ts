import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadConfig, type Config } from '@consentry/sdk/config';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConsentryError } from '@consentry/sdk/errors';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { LOCAL_CHAIN_ID, type PublicConfig } from './public-config.ts';

const webEnvSchema = z.object({
  /** The RPC URL browsers use, when it differs from the server's RPC_URL (e.g. behind a proxy). */
  PUBLIC_RPC_URL: z.url().optional(),
  /** The release gateways browsers call, comma-separated (npm start sets it). */
  GATEWAY_URLS: z.array(z.url()).default([]),
  /** The credential issuer browsers send a patient's records to (npm start sets it). */
  ISSUER_URL: z.url().optional(),
  /** The gasless relayer browsers post participants' signed requests to (npm start sets it). */
  RELAYER_URL: z.url().optional(),
  /** Where `npm run circuits:setup` put the proving files (default: circuits/build in the repository). */
  CIRCUITS_BUILD_DIR: z.string().min(1).optional(),
});

export interface ServerConfig {
  config: Config;
  publicRpcUrl: string;
  gateways: string[];
  issuerUrl: string | null;
  relayerUrl: string | null;
  circuitsBuildDir: string;
}

let cached: ServerConfig | undefined;

/**
 * The repository's circuits/build, found from this module's own place: in development it is
 * web/app/lib, in the server build web/build/server (the sdk's REPO_ROOT is not usable there: it is
 * bundled too). Falls back to the working directory, where `npm start` runs the server.
 */
function defaultCircuitsBuildDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'circuits', 'package.json'))) return join(dir, 'circuits', 'build');
    dir = dirname(dir);
  }
  return join(process.cwd(), 'circuits', 'build');
}

const FIELD_WORDS: Record<string, string> = {
  GATEWAY_URLS: 'comma-separated URLs',
  CIRCUITS_BUILD_DIR: 'a folder',
};

/** The server's configuration, parsed once from the environment. */
export function serverConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  if (env === process.env && cached) return cached;
  const config = loadConfig(env);
  const web = webEnvSchema.safeParse({
    PUBLIC_RPC_URL: env.PUBLIC_RPC_URL || undefined,
    GATEWAY_URLS: (env.GATEWAY_URLS ?? '').split(',').map((u) => u.trim()).filter(Boolean),
    ISSUER_URL: env.ISSUER_URL || undefined,
    RELAYER_URL: env.RELAYER_URL || undefined,
    CIRCUITS_BUILD_DIR: env.CIRCUITS_BUILD_DIR || undefined,
  });
  if (!web.success) {
    const field = String(web.error.issues[0]?.path[0] ?? 'PUBLIC_RPC_URL');
    throw new ConsentryError('CONFIG_INVALID', `Invalid configuration: ${field} must be ${FIELD_WORDS[field] ?? 'a URL'}`);
  }
  const result: ServerConfig = {
    config,
    publicRpcUrl: web.data.PUBLIC_RPC_URL ?? config.RPC_URL,
    gateways: web.data.GATEWAY_URLS,
    // No trailing slash, so the browser can append paths.
    issuerUrl: web.data.ISSUER_URL ? web.data.ISSUER_URL.replace(/\/+$/, '') : null,
    relayerUrl: web.data.RELAYER_URL ? web.data.RELAYER_URL.replace(/\/+$/, '') : null,
    circuitsBuildDir: web.data.CIRCUITS_BUILD_DIR ?? defaultCircuitsBuildDir(),
  };
  if (env === process.env) cached = result;
  return result;
}

/**
 * The browser's view of the configuration. The deployment is read on every call so that a
 * redeploy is picked up without restarting the web server; a missing one becomes `problem`.
 */
export function publicConfig(env: Record<string, string | undefined> = process.env): PublicConfig {
  const { config, publicRpcUrl, gateways, issuerUrl, relayerUrl } = serverConfig(env);
  let contracts: PublicConfig['contracts'] = null;
  let problem: string | null = null;
  let startBlock = 0;
  try {
    const deployment = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR);
    const c = deployment.contracts;
    contracts = {
      PatientRegistry: c.PatientRegistry.address,
      RecordAnchor: c.RecordAnchor?.address ?? null,
      OrganizationRegistry: c.OrganizationRegistry?.address ?? null,
      AccessGrants: c.AccessGrants?.address ?? null,
      ReleaseCommittee: c.ReleaseCommittee?.address ?? null,
      IssuerRegistry: c.IssuerRegistry?.address ?? null,
      EligibilityVerifier: c.EligibilityVerifier?.address ?? null,
      StudyRegistry: c.StudyRegistry?.address ?? null,
      ConsentToken: c.ConsentToken?.address ?? null,
      Forwarder: c.Forwarder?.address ?? null,
      StudyMarket: c.StudyMarket?.address ?? null,
      TestToken: c.TestToken?.address ?? null,
    };
    startBlock = deployment.startBlock;
  } catch (err) {
    problem =
      err instanceof ConsentryError && err.code === 'DEPLOYMENT_NOT_FOUND'
        ? `The contracts are not deployed on chain ${config.CHAIN_ID} yet. Start Consentry with \`npm start\`.`
        : `The deployment record for chain ${config.CHAIN_ID} cannot be read.`;
  }
  const devAccounts =
    config.CHAIN_ID === LOCAL_CHAIN_ID ? ANVIL_ACCOUNTS.map(({ address }, index) => ({ index, address })).slice(1) : [];
  return { chainId: config.CHAIN_ID, rpcUrl: publicRpcUrl, contracts, problem, devAccounts, gateways, issuerUrl, relayerUrl, startBlock };
}
