/**
 * The local credential issuer for `npm start` (chain 31337 only): its key is ISSUER_PRIVATE_KEY or
 * the one kept in DATA_DIR/issuer/key.json (made once, 0600; the same file the issuer process
 * reads), and the deployer, an issuer accreditor on the local chain, adds its leaf to IssuerRegistry
 * if it is not there yet. Run again, it changes nothing. Elsewhere issuers are accredited
 * deliberately by an issuer accreditor; nothing is provisioned (docs/decisions/019).
 */
import { zeroAddress, type Hex } from 'viem';
import { issuerRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import type { Deployment } from '@consentry/sdk/deployment';
import { addIssuer } from '@consentry/sdk/zk/chain';
import { issuerLeaf } from '@consentry/sdk/zk/credential';
import { loadIssuerKey } from '../workers/src/issuer/key.ts';

export interface LocalIssuer {
  leaf: bigint;
  publicKey: readonly [bigint, bigint];
  /** Whether this run added it (false: it was accredited already). */
  added: boolean;
}

export async function ensureLocalIssuer(opts: {
  rpcUrl: string;
  deployment: Deployment;
  deployerKey: Hex;
  dataDir: string;
  /** ISSUER_PRIVATE_KEY, when the issuer process is given one. */
  issuerSecret?: string | undefined;
  log: (l: string) => void;
}): Promise<LocalIssuer | null> {
  const c = opts.deployment.contracts;
  const registry = c.IssuerRegistry?.address;
  if (opts.deployment.chainId !== 31337 || !registry) return null;
  const key = loadIssuerKey({ privateKey: opts.issuerSecret || undefined, dataDir: opts.dataDir });
  const leaf = issuerLeaf(key.publicKey);
  const client = publicClientFor(opts.rpcUrl, opts.deployment.chainId);
  if (await client.readContract({ address: registry, abi: issuerRegistryAbi, functionName: 'isIssuer', args: [leaf] })) {
    return { leaf, publicKey: key.publicKey, added: false };
  }
  const wallet = walletClientFor(opts.rpcUrl, opts.deployment.chainId, opts.deployerKey);
  // addIssuer reads IssuerRegistry only; the other addresses are there for the context's shape.
  const contracts = { IssuerRegistry: registry, StudyRegistry: c.StudyRegistry?.address ?? zeroAddress, EligibilityVerifier: c.EligibilityVerifier?.address ?? zeroAddress };
  const added = await addIssuer({ wallet, client, contracts }, key.publicKey);
  opts.log(`issuer: accredited the local issuer (leaf ${leaf}, index ${added.index}) in IssuerRegistry`);
  return { leaf, publicKey: key.publicKey, added: true };
}
