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
});

let cached: { config: Config; publicRpcUrl: string; gateways: string[] } | undefined;

/** The server's configuration, parsed once from the environment. */
export function serverConfig(env: Record<string, string | undefined> = process.env): { config: Config; publicRpcUrl: string; gateways: string[] } {
  if (env === process.env && cached) return cached;
  const config = loadConfig(env);
  const web = webEnvSchema.safeParse({
    PUBLIC_RPC_URL: env.PUBLIC_RPC_URL || undefined,
    GATEWAY_URLS: (env.GATEWAY_URLS ?? '').split(',').map((u) => u.trim()).filter(Boolean),
  });
  if (!web.success) {
    const field = web.error.issues[0]?.path[0] ?? 'PUBLIC_RPC_URL';
    throw new ConsentryError('CONFIG_INVALID', `Invalid configuration: ${String(field)} must be ${field === 'GATEWAY_URLS' ? 'comma-separated URLs' : 'a URL'}`);
  }
  const result = { config, publicRpcUrl: web.data.PUBLIC_RPC_URL ?? config.RPC_URL, gateways: web.data.GATEWAY_URLS };
  if (env === process.env) cached = result;
  return result;
}

/**
 * The browser's view of the configuration. The deployment is read on every call so that a
 * redeploy is picked up without restarting the web server; a missing one becomes `problem`.
 */
export function publicConfig(env: Record<string, string | undefined> = process.env): PublicConfig {
  const { config, publicRpcUrl, gateways } = serverConfig(env);
  let contracts: PublicConfig['contracts'] = null;
  let problem: string | null = null;
  try {
    const deployment = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR);
    const c = deployment.contracts;
    contracts = {
      PatientRegistry: c.PatientRegistry.address,
      RecordAnchor: c.RecordAnchor?.address ?? null,
      OrganizationRegistry: c.OrganizationRegistry?.address ?? null,
      AccessGrants: c.AccessGrants?.address ?? null,
      ReleaseCommittee: c.ReleaseCommittee?.address ?? null,
    };
  } catch (err) {
    problem =
      err instanceof ConsentryError && err.code === 'DEPLOYMENT_NOT_FOUND'
        ? `The contracts are not deployed on chain ${config.CHAIN_ID} yet. Start Consentry with \`npm start\`.`
        : `The deployment record for chain ${config.CHAIN_ID} cannot be read.`;
  }
  const devAccounts =
    config.CHAIN_ID === LOCAL_CHAIN_ID ? ANVIL_ACCOUNTS.map(({ address }, index) => ({ index, address })).slice(1) : [];
  return { chainId: config.CHAIN_ID, rpcUrl: publicRpcUrl, contracts, problem, devAccounts, gateways };
}
