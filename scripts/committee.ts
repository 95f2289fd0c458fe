/**
 * The local release committee for `npm start` (chain 31337 only): three members, k = 2, each with an
 * account key and an X25519 key kept in DATA_DIR/committee/member-<i>.json (created once, reused),
 * funded by the deployer for posting log roots, and added to ReleaseCommittee if not yet members.
 * On another chain the committee is run by independent organisations; nothing is provisioned.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, parseEther, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { releaseCommitteeAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import type { Deployment } from '@consentry/sdk/deployment';
import { fromBase64, toBase64 } from '@consentry/sdk/records/versions';

export const COMMITTEE_SIZE = 3;
export const COMMITTEE_THRESHOLD = 2;

export interface MemberKeyFile {
  file: string;
  address: Hex;
}

export async function ensureLocalCommittee(opts: { rpcUrl: string; deployment: Deployment; deployerKey: Hex; dataDir: string; log: (l: string) => void }): Promise<MemberKeyFile[]> {
  const address = opts.deployment.contracts.ReleaseCommittee?.address;
  if (!address) return [];
  const dir = join(opts.dataDir, 'committee');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const client = publicClientFor(opts.rpcUrl, opts.deployment.chainId);
  const owner = walletClientFor(opts.rpcUrl, opts.deployment.chainId, opts.deployerKey);
  const members: MemberKeyFile[] = [];
  for (let i = 0; i < COMMITTEE_SIZE; i++) {
    const file = join(dir, `member-${i}.json`);
    if (!existsSync(file)) {
      writeFileSync(file, JSON.stringify({ privateKey: generatePrivateKey(), x25519SecretKey: toBase64(randomBytes(32)) }), { mode: 0o600 });
    }
    const key = JSON.parse(readFileSync(file, 'utf8')) as { privateKey: Hex; x25519SecretKey: string };
    const account = privateKeyToAccount(key.privateKey);
    if ((await client.getBalance({ address: account.address })) < parseEther('1')) {
      await client.waitForTransactionReceipt({ hash: await owner.sendTransaction({ to: account.address, value: parseEther('10') }) });
    }
    const isMember = await client.readContract({ address, abi: releaseCommitteeAbi, functionName: 'isMember', args: [account.address] });
    if (!isMember) {
      const size = await client.readContract({ address, abi: releaseCommitteeAbi, functionName: 'size' });
      const threshold = Math.min(COMMITTEE_THRESHOLD, size + 1);
      const publicKey = bytesToHex(x25519.getPublicKey(fromBase64(key.x25519SecretKey)));
      const hash = await owner.writeContract({ address, abi: releaseCommitteeAbi, functionName: 'addMember', args: [account.address, publicKey, threshold], gas: 500_000n });
      await client.waitForTransactionReceipt({ hash });
      opts.log(`committee: added member ${account.address}`);
    }
    members.push({ file, address: account.address });
  }
  return members;
}
