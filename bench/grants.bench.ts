/**
 * Gas of the clinical access transactions, from real receipts on anvil (AccessGrants, with its
 * PatientRegistry and OrganizationRegistry deployed by the deploy script). The request counter is
 * warmed once first, so the figures are those of a chain in use. Baseline in the same run: a
 * patient's PatientRegistry.register (one new storage slot and an event).
 *   grants.baseline_patient_register_gas   gas
 *   grants.request_gas        requestAccess: two new slots (the request), event
 *   grants.approve_gas        approve: first grant of this patient to this grantee
 *   grants.revoke_gas         revoke: clears the grant (after the refund)
 *   grants.break_glass_gas    breakGlass: the emergency window, default 4 hours
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, toHex, type Abi, type Address, type Hex } from 'viem';
import { deployContracts } from '../contracts/script/deploy.ts';
import { accessGrantsAbi, organizationRegistryAbi, patientRegistryAbi } from '../sdk/src/abi/generated.ts';
import { publicClientFor, walletClientFor } from '../sdk/src/clients.ts';
import { categoryMask } from '../sdk/src/records/categories.ts';
import { ANVIL_ACCOUNTS, startAnvil } from '../sdk/src/testing/anvil.ts';

// X25519 public keys from RFC 7748 section 6.1 (any valid key does).
const PATIENT_KEYS: Hex[] = [
  '0x8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  '0xde9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
];
const KIND = { Provider: 0, EmergencyProvider: 1 } as const;
const TREAT = 0;
const WEEK = 7 * 24 * 3600;

const anvil = await startAnvil();
const dir = mkdtempSync(join(tmpdir(), 'consentry-grants-bench-'));
try {
  const deployer = ANVIL_ACCOUNTS[0]!;
  const deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: deployer.privateKey, chainId: 31337, deploymentsDir: dir });
  const patients = deployment.contracts.PatientRegistry.address;
  const orgs = deployment.contracts.OrganizationRegistry!.address;
  const grants = deployment.contracts.AccessGrants!.address;
  const client = publicClientFor(anvil.rpcUrl, 31337);

  /** Sends one transaction from account `from` and returns the gas its receipt reports. */
  const send = async (from: number, address: Address, abi: Abi, functionName: string, args: readonly unknown[]) => {
    const wallet = walletClientFor(anvil.rpcUrl, 31337, ANVIL_ACCOUNTS[from]!.privateKey);
    const hash = await wallet.writeContract({ address, abi, functionName, args, gas: 500_000n });
    const receipt = await client.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`${functionName} reverted (${hash})`);
    return Number(receipt.gasUsed);
  };

  const [alice, bob, clinic, er] = [1, 2, 3, 4];
  const baseline = await send(alice, patients, patientRegistryAbi, 'register', [PATIENT_KEYS[0]]);
  await send(bob, patients, patientRegistryAbi, 'register', [PATIENT_KEYS[1]]);
  const until = BigInt(Math.floor(Date.now() / 1000) + 365 * 24 * 3600);
  for (const [who, kind] of [[clinic, KIND.Provider], [er, KIND.EmergencyProvider]] as const) {
    await send(who, orgs, organizationRegistryAbi, 'register', [kind, keccak256(toHex(`org ${who}`)), keccak256(toHex('metadata'))]);
    await send(0, orgs, organizationRegistryAbi, 'accredit', [ANVIL_ACCOUNTS[who]!.address, until]);
  }
  const aliceAddress = ANVIL_ACCOUNTS[alice]!.address;
  const mask = categoryMask(['labs', 'imaging', 'medications']);

  // Warm the request counter (its first write is a zero-to-nonzero store no later request pays).
  await send(clinic, grants, accessGrantsAbi, 'requestAccess', [ANVIL_ACCOUNTS[bob]!.address, mask, TREAT, WEEK]);

  const request = await send(clinic, grants, accessGrantsAbi, 'requestAccess', [aliceAddress, mask, TREAT, WEEK]);
  const requestId = await client.readContract({ address: grants, abi: accessGrantsAbi, functionName: 'requestCount' });
  const approve = await send(alice, grants, accessGrantsAbi, 'approve', [requestId, categoryMask(['labs', 'imaging']), WEEK]);
  const revoke = await send(alice, grants, accessGrantsAbi, 'revoke', [ANVIL_ACCOUNTS[clinic]!.address]);
  const breakGlass = await send(er, grants, accessGrantsAbi, 'breakGlass', [aliceAddress, keccak256(toHex('unconscious on arrival')), 0]);

  console.log(`grants.baseline_patient_register_gas: ${baseline} gas`);
  console.log(`grants.request_gas: ${request} gas`);
  console.log(`grants.approve_gas: ${approve} gas`);
  console.log(`grants.revoke_gas: ${revoke} gas`);
  console.log(`grants.break_glass_gas: ${breakGlass} gas`);
} finally {
  await anvil.stop();
  rmSync(dir, { recursive: true, force: true });
}
