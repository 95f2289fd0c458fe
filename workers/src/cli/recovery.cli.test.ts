// Key loss and recovery as a user runs it (the real `consentry` in a child process) against a real
// anvil with the deployed contracts and the vault on SQLite (and PostgreSQL when TEST_DATABASE_URL
// is set): the patient names three guardians (2 of 3), backs her key up to them and on paper; a
// recovery the old wallet cancels in time changes nothing; one guardian alone cannot complete one,
// nor can anyone before the wait; after two approvals and 48 hours the new wallet completes it, the
// guardians release their shares (only they, only then) and two of them give the key back. Every
// refusal is in words with exit code 1 (2 for bad usage).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConsentry } from './testing/run-cli.ts';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import { fromBase64 } from '@consentry/sdk/records/versions';
import { recoverSecretFromReleased } from '@consentry/sdk/recovery/backup';
import { secretFromPaperPhrase } from '@consentry/sdk/recovery/paper';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deployContracts } from '../../../contracts/script/deploy.ts';
import { vaultKinds } from '../records/testing/vaults.ts';
import { Vault } from '../records/vault.ts';

const CHAIN = 31337;
const [PATIENT, G1, G2, G3, NEW_WALLET, STRANGER] = [1, 2, 3, 4, 5, 6];
const addr = (i: number) => ANVIL_ACCOUNTS[i]!.address;
const keysOf = async (i: number): Promise<EncryptionKeyPair> =>
  deriveEncryptionKeyPair(await privateKeyToAccount(ANVIL_ACCOUNTS[i]!.privateKey).signTypedData(keyDerivationTypedData(CHAIN)));

describe.each(vaultKinds().filter((k) => k.name !== 'pglite'))('consentry guardians, backup and recovery on $name', (kind) => {
  let anvil: AnvilInstance;
  let client: PublicClient;
  let dir: string;
  let env: Record<string, string>;

  const consentry = (...args: string[]) => runConsentry(env, args);
  const as = (i: number, ...args: string[]) => consentry(...args, '--dev-account', String(i));
  const ok = async (p: ReturnType<typeof consentry>) => {
    const r = await p;
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  const refusal = async (p: ReturnType<typeof consentry>, code = 1) => {
    const r = await p;
    expect(r.status, r.stdout).toBe(code);
    return r.stderr;
  };
  const mine = async (seconds: number) => {
    await client.request({ method: 'evm_increaseTime', params: [seconds] } as never);
    await client.request({ method: 'evm_mine', params: [] } as never);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'consentry-cli-recovery-'));
    anvil = await startAnvil();
    const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: CHAIN, deploymentsDir: dir });
    client = publicClientFor(anvil.rpcUrl, CHAIN) as PublicClient;
    for (const i of [PATIENT, G1, G2, G3]) {
      const hash = await walletClientFor(anvil.rpcUrl, CHAIN, ANVIL_ACCOUNTS[i]!.privateKey).writeContract({
        address: d.contracts.PatientRegistry.address,
        abi: patientRegistryAbi,
        functionName: 'register',
        args: [(await keysOf(i)).publicKeyHex],
      });
      await client.waitForTransactionReceipt({ hash });
    }
    env = { RPC_URL: anvil.rpcUrl, CHAIN_ID: String(CHAIN), DEPLOYMENTS_DIR: dir, DATABASE_URL: '', CONSENTRY_PRIVATE_KEY: '', ...kind.childEnv() };
  }, 120_000);

  afterAll(async () => {
    await anvil?.stop();
    await kind.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('names guardians and backs the key up to them and on paper', async () => {
    expect(await ok(as(PATIENT, 'guardians', 'show'))).toContain(`guardians: none named for ${addr(PATIENT)}`);
    expect(await refusal(as(PATIENT, 'guardians', 'set', `${addr(G1)},${addr(G2)}`, '--threshold', '3'), 2)).toMatch(/--threshold must be a whole number from 2 to the number of guardians \(2\)/);
    expect(await refusal(as(PATIENT, 'guardians', 'set', `${addr(G1)},${addr(G2)}`, '--threshold', '2', '--delay', '2h'), 2)).toMatch(/from 1 day to 30 days/);
    expect(await refusal(as(PATIENT, 'guardians', 'set', `${addr(G1)},${addr(PATIENT)}`, '--threshold', '2'))).toMatch(/cannot be a guardian/);
    expect(await refusal(as(PATIENT, 'backup', 'guardians'))).toMatch(/Name your guardians first/);

    const set = await ok(as(PATIENT, 'guardians', 'set', `${addr(G1)},${addr(G2)},${addr(G3)}`, '--threshold', '2'));
    expect(set).toContain(`guardians: 2 of 3 recover ${addr(PATIENT)} after a wait of 48 h: ${addr(G1)}, ${addr(G2)}, ${addr(G3)}`);
    expect(set).toContain('consentry backup guardians');
    expect(await ok(as(PATIENT, 'backup', 'guardians'))).toMatch(/split 2 of 3, one share sealed to each guardian/);

    const paper = await as(PATIENT, 'backup', 'paper');
    expect(paper.status, paper.stderr).toBe(0);
    expect(paper.stderr).toMatch(/24 words.*keep them offline/);
    const words = paper.stdout.trim().split(/\s+/).filter((w) => !/^\d+\.$/.test(w));
    expect(words).toHaveLength(24);
    const keys = await keysOf(PATIENT);
    expect(bytesToHex(secretFromPaperPhrase(words.join(' '), keys.publicKeyHex))).toBe(bytesToHex(keys.secretKey));

    const status = await ok(consentry('recovery', 'status', addr(PATIENT)));
    expect(status).toContain(`account ${addr(PATIENT)}: controlled by ${addr(PATIENT)}`);
    expect(status).toContain(`recovery: none under way for ${addr(PATIENT)}`);
    expect(status).toMatch(/key backup: 2 of 3 guardians, made /);
  }, 120_000);

  it('a recovery the old wallet cancels in time changes nothing; one guardian or an early completion gets nothing', async () => {
    const recoveryKey = (await keysOf(NEW_WALLET)).publicKeyHex;
    const start = ['recovery', 'start', addr(PATIENT), '--new-wallet', addr(NEW_WALLET), '--recovery-key', recoveryKey];
    expect(await refusal(as(STRANGER, ...start))).toMatch(new RegExp(`${addr(STRANGER)} is not a guardian of this account`));
    expect(await refusal(as(G1, 'recovery', 'start', addr(PATIENT), '--new-wallet', addr(NEW_WALLET), '--recovery-key', '0x12'), 2)).toMatch(/--recovery-key must be/);
    const started = await ok(as(G1, ...start));
    expect(started).toContain(`recovery #1 of ${addr(PATIENT)} started by ${addr(G1)}`);
    expect(started).toContain('approvals: 1 of 2');
    // One guardian alone: neither complete nor release.
    expect(await refusal(as(NEW_WALLET, 'recovery', 'complete', addr(PATIENT)))).toMatch(/has 1 of the 2 guardian approvals/);
    expect(await refusal(as(G1, 'recovery', 'approve', addr(PATIENT)))).toMatch(/already approved recovery #1/);
    expect(await refusal(as(G1, 'recovery', 'release', addr(PATIENT)))).toMatch(/No recovery .* has completed/);

    await ok(as(G2, 'recovery', 'approve', addr(PATIENT)));
    expect(await ok(consentry('recovery', 'status', addr(PATIENT)))).toMatch(/approvals: 2 of 2 .*may be completed from .*the current wallet can cancel it/);
    expect(await ok(as(PATIENT, 'recovery', 'cancel'))).toContain(`recovery of ${addr(PATIENT)} cancelled`);
    await mine(48 * 3600 + 1);
    expect(await refusal(as(NEW_WALLET, 'recovery', 'complete', addr(PATIENT)))).toMatch(/no recovery under way/);
    const after = await ok(consentry('recovery', 'status', addr(PATIENT)));
    expect(after).toContain(`controlled by ${addr(PATIENT)}`);
    expect(after).toContain('recovery: none under way');
  }, 120_000);

  it('two guardians and the wait move the account; only guardians release, and two shares give the key back', async () => {
    const newKeys = await keysOf(NEW_WALLET);
    // The patient has records before she loses her wallet (synthetic, imported with the CLI).
    const synthDir = mkdtempSync(join(dir, 'synth-'));
    await ok(consentry('synth', '--patients', '1', '--seed', 'recovery-cli', '--out', synthDir));
    await ok(as(PATIENT, 'import', synthDir, '--no-anchor'));
    const before = JSON.parse(await ok(as(PATIENT, 'records', 'list', '--json'))) as unknown[];
    expect(before.length).toBeGreaterThan(3);
    // The new wallet's address and recovery key, as the guardians need them.
    expect(await ok(as(NEW_WALLET, 'recovery', 'key'))).toContain(`recovery key: ${newKeys.publicKeyHex}`);
    await ok(as(G2, 'recovery', 'start', addr(PATIENT), '--new-wallet', addr(NEW_WALLET), '--recovery-key', newKeys.publicKeyHex));
    await ok(as(G3, 'recovery', 'approve', addr(PATIENT)));
    expect(await refusal(as(NEW_WALLET, 'recovery', 'complete', addr(PATIENT)))).toMatch(/waiting period runs until .*the old wallet can still cancel it/);
    await mine(48 * 3600 + 1);
    expect(await ok(as(NEW_WALLET, 'recovery', 'complete', addr(PATIENT)))).toContain(`${addr(PATIENT)} is now controlled by ${addr(NEW_WALLET)}`);

    // The old wallet acts for nothing any more; the new one has not rotated the key yet.
    expect(await refusal(as(PATIENT, 'recovery', 'cancel'))).toMatch(/no longer controls its account: a recovery moved it to/);
    expect(await refusal(as(PATIENT, 'backup', 'paper'))).toMatch(/no longer controls/);
    expect(await refusal(as(NEW_WALLET, 'backup', 'paper'))).toMatch(/derived key is not the encryption key/);
    // The record commands act for the account the wallet controls: the old wallet for none.
    expect(await refusal(as(PATIENT, 'records', 'list'), 2)).toMatch(/account was recovered to another wallet \(0x/);
    expect(await refusal(as(NEW_WALLET, 'records', 'list'))).toMatch(/sealed to your account's earlier key: after a recovery, run `consentry keys rotate`/);

    expect(await refusal(as(STRANGER, 'recovery', 'release', addr(PATIENT)))).toMatch(/is not a guardian/);
    expect(await ok(as(G1, 'recovery', 'release', addr(PATIENT)))).toMatch(/released: your share .*recovery #2/);
    expect(await ok(as(G1, 'recovery', 'release', addr(PATIENT)))).toMatch(/already released/);
    await ok(as(G3, 'recovery', 'release', addr(PATIENT)));
    const status = await ok(consentry('recovery', 'status', addr(PATIENT)));
    expect(status).toContain(`last completed: recovery #2`);
    expect(status).toContain(`released shares for recovery #2: 2`);

    // The new wallet restores from the two released shares and rotates: every record re-sealed to its key.
    const rotated = await ok(as(NEW_WALLET, 'keys', 'rotate'));
    expect(rotated).toContain(`rotated on chain: the account's key is now ${newKeys.publicKeyHex}`);
    expect(rotated).toContain(`re-sealed ${before.length} version(s) to the new key; 0 already were`);
    expect(JSON.parse(await ok(as(NEW_WALLET, 'records', 'list', '--json')))).toHaveLength(before.length);
    const [first] = JSON.parse(await ok(as(NEW_WALLET, 'records', 'list', '--json'))) as Array<{ recordId: string }>;
    await ok(as(NEW_WALLET, 'records', 'show', first!.recordId));
    expect(await ok(as(NEW_WALLET, 'keys', 'rotate'))).toContain(`re-sealed 0 version(s) to the new key; ${before.length} already were`);
    await ok(as(NEW_WALLET, 'backup', 'paper'));

    const vault = await Vault.open(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL, databaseSchema: env.VAULT_DATABASE_SCHEMA! } : { dataDir: env.DATA_DIR! });
    try {
      const released = await vault.releasedShares(addr(PATIENT), 2);
      const secret = await recoverSecretFromReleased({
        released: released.map((r) => fromBase64(r.releasedShare)),
        recoverySecretKey: newKeys.secretKey,
        recovery: { account: addr(PATIENT) as Address, nonce: 2n, newController: addr(NEW_WALLET) as Address, recoveryKey: newKeys.publicKeyHex as Hex },
        expectedPublicKey: (await keysOf(PATIENT)).publicKeyHex,
      });
      expect(bytesToHex(secret)).toBe(bytesToHex((await keysOf(PATIENT)).secretKey));
    } finally {
      await vault.close();
    }
  }, 120_000);
});
