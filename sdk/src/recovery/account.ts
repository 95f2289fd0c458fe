/**
 * The patient account a wallet acts for under a configuration (Node: reads the deployment file), for
 * the web server's sign-in and the CLI's record commands alike (decision 031): the account the wallet
 * controls on chain, or the wallet itself when it controls none. Without a deployment (records kept
 * before any chain) there is no registry and so no recovery: the wallet is its own account.
 */
import type { Address, PublicClient } from 'viem';
import { publicClientFor } from '../clients.ts';
import type { Config } from '../config.ts';
import { readDeployment } from '../deployment.ts';
import { ConsentryError } from '../errors.ts';
import { patientAccountOf } from './actions.ts';

export async function resolvePatientAccount(
  config: Pick<Config, 'CHAIN_ID' | 'DEPLOYMENTS_DIR' | 'RPC_URL'>,
  wallet: Address,
  client?: PublicClient,
): Promise<{ account: Address; movedTo: Address | null }> {
  let registry: Address;
  try {
    registry = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR).contracts.PatientRegistry.address;
  } catch (err) {
    if (err instanceof ConsentryError && err.code === 'DEPLOYMENT_NOT_FOUND') return { account: wallet, movedTo: null };
    throw err;
  }
  try {
    const { account, movedTo } = await patientAccountOf(client ?? (publicClientFor(config.RPC_URL, config.CHAIN_ID, { retryCount: 1 }) as PublicClient), registry, wallet);
    return { account, movedTo };
  } catch (cause) {
    throw new ConsentryError('CHAIN_UNAVAILABLE', `Cannot read the chain at ${config.RPC_URL} to find the account this wallet acts for`, { cause });
  }
}
