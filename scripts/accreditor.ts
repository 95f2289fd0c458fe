/**
 * The local accreditor for `npm start` (chain 31337 only). The deployer (anvil account 0) is the
 * accreditor there, but the web app does not offer it as a development account (the stack's
 * workers send from it, and a page sending from the same account would race their nonces). So the
 * deployer grants ACCREDITOR_ROLE to development account 6 as well, once; on the Organisations page
 * that account sees the accreditor panel (docs/decisions/016). Elsewhere nothing is granted:
 * accreditors are appointed deliberately by the admin.
 */
import type { Address, Hex } from 'viem';
import { organizationRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import type { Deployment } from '@consentry/sdk/deployment';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';

/** The development account that accredits organisations on the local chain. */
export const LOCAL_ACCREDITOR_INDEX = 6;

export async function ensureLocalAccreditor(opts: { rpcUrl: string; deployment: Deployment; deployerKey: Hex; log: (l: string) => void }): Promise<Address | null> {
  const registry = opts.deployment.contracts.OrganizationRegistry?.address;
  if (opts.deployment.chainId !== 31337 || !registry) return null;
  const accreditor = ANVIL_ACCOUNTS[LOCAL_ACCREDITOR_INDEX]!.address;
  const client = publicClientFor(opts.rpcUrl, opts.deployment.chainId);
  const role = await client.readContract({ address: registry, abi: organizationRegistryAbi, functionName: 'ACCREDITOR_ROLE' });
  if (!(await client.readContract({ address: registry, abi: organizationRegistryAbi, functionName: 'hasRole', args: [role, accreditor] }))) {
    const admin = walletClientFor(opts.rpcUrl, opts.deployment.chainId, opts.deployerKey);
    const hash = await admin.writeContract({ address: registry, abi: organizationRegistryAbi, functionName: 'grantRole', args: [role, accreditor], gas: 200_000n });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`Granting ACCREDITOR_ROLE to development account ${LOCAL_ACCREDITOR_INDEX} reverted (${hash})`);
  }
  opts.log(`accreditor: development account ${LOCAL_ACCREDITOR_INDEX} (${accreditor}) accredits organisations on the local chain`);
  return accreditor;
}
