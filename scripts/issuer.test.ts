// ensureLocalIssuer on a real anvil chain: the first run makes the key in DATA_DIR and accredits its
// leaf in IssuerRegistry; a second run finds it accredited and sends nothing; ISSUER_PRIVATE_KEY's
// issuer is accredited instead of the kept one; off the local chain nothing is provisioned.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuerRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor } from '@consentry/sdk/clients';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { issuerKeyFromSecret, issuerLeaf } from '@consentry/sdk/zk/credential';
import { deployContracts, type DeployResult } from '../contracts/script/deploy.ts';
import { issuerKeyFile, loadIssuerKey } from '../workers/src/issuer/key.ts';
import { ensureLocalIssuer } from './issuer.ts';

let anvil: AnvilInstance;
let deployment: DeployResult;
let dir: string;
const logs: string[] = [];
const opts = () => ({ rpcUrl: anvil.rpcUrl, deployment, deployerKey: ANVIL_ACCOUNTS[0]!.privateKey, dataDir: dir, log: (l: string) => logs.push(l) });
const isIssuer = (leaf: bigint) =>
  publicClientFor(anvil.rpcUrl, 31337).readContract({ address: deployment.contracts.IssuerRegistry!.address, abi: issuerRegistryAbi, functionName: 'isIssuer', args: [leaf] });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-local-issuer-'));
  anvil = await startAnvil();
  deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: 31337, deploymentsDir: dir });
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ensureLocalIssuer', () => {
  it('accredits the kept key once, and changes nothing when run again', async () => {
    const first = await ensureLocalIssuer(opts());
    const kept = loadIssuerKey({ dataDir: dir });
    expect(kept.source).toBe(issuerKeyFile(dir));
    expect(first).toEqual({ leaf: issuerLeaf(kept.publicKey), publicKey: kept.publicKey, added: true });
    expect(await isIssuer(first!.leaf)).toBe(true);
    expect(logs.filter((l) => l.includes('accredited the local issuer'))).toHaveLength(1);

    const blockBefore = await publicClientFor(anvil.rpcUrl, 31337).getBlockNumber();
    const second = await ensureLocalIssuer(opts());
    expect(second).toEqual({ ...first, added: false });
    expect(await publicClientFor(anvil.rpcUrl, 31337).getBlockNumber()).toBe(blockBefore);
  });

  it('accredits the ISSUER_PRIVATE_KEY issuer when one is given', async () => {
    const secret = `0x${'5a'.repeat(32)}`;
    const given = await ensureLocalIssuer({ ...opts(), issuerSecret: secret });
    expect(given!.leaf).toBe(issuerLeaf(issuerKeyFromSecret(secret as `0x${string}`).publicKey));
    expect(given!.added).toBe(true);
    expect(await isIssuer(given!.leaf)).toBe(true);
  });

  it('provisions nothing off the local chain', async () => {
    expect(await ensureLocalIssuer({ ...opts(), deployment: { ...deployment, chainId: 11155111 } })).toBeNull();
  });
});
