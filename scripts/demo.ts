/**
 * `npm run demo`: registers a few development accounts as patients, as the web app would, and
 * gives each a synthetic medical history in their encrypted records (idempotent: a second run
 * stores nothing new). The anchor worker anchors them within seconds. It also registers the Access
 * Simulator's organisations (clinic, emergency provider, insurer) and has the local accreditor
 * accredit them, so /simulator starts ready.
 */
import { createWalletClient, http } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { ANVIL_MNEMONIC, prepareOrganizations, SIMULATOR_ACCOUNTS, SIMULATOR_ORGANIZATIONS } from '@consentry/sdk/access/simulator';
import { chainFor, publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData, keyFingerprint } from '@consentry/sdk/keys';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { synthesizeBundles } from '@consentry/sdk/synth/generate';
import { RecordsService } from '../workers/src/records/service.ts';
import { Vault, vaultOptionsFor } from '../workers/src/records/vault.ts';
import type { Stack } from './stack.ts';

/** Demo patients: anvil accounts 7..9, leaving 1..6 free to sign up by hand in the app. */
const DEMO_ACCOUNTS = ANVIL_ACCOUNTS.slice(7, 10);

export async function seedDemo(stack: Stack, log: (l: string) => void): Promise<void> {
  if (stack.config.CHAIN_ID !== 31337) {
    log('demo: seeding only runs on the local chain (31337); skipped');
    return;
  }
  const client = publicClientFor(stack.rpcUrl, stack.config.CHAIN_ID);
  const registry = stack.deployment.contracts.PatientRegistry.address;
  const vault = await Vault.open(vaultOptionsFor(stack.config, stack.env));
  const blobs = await blobStoreFromEnv({ ...stack.env, DATA_DIR: stack.config.DATA_DIR });
  try {
    for (const [i, { privateKey, address }] of DEMO_ACCOUNTS.entries()) {
      const wallet = walletClientFor(stack.rpcUrl, stack.config.CHAIN_ID, privateKey);
      const keys = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(stack.config.CHAIN_ID)));
      const history = synthesizeBundles({ patients: 1, seed: `demo/${i}` })[0]!.entry.map((e) => e.resource as FhirResource);
      const result = await new RecordsService({ vault, blobs, patient: address, keys }).importResources(history);
      log(`demo: ${address} has ${history.length} synthetic records (${result.stored} new)`);
    }
  } finally {
    await vault.close();
  }
  for (const { privateKey, address } of DEMO_ACCOUNTS) {
    const already = await client.readContract({ address: registry, abi: patientRegistryAbi, functionName: 'isRegistered', args: [address] });
    if (already) {
      log(`demo: patient ${address} already registered`);
      continue;
    }
    const wallet = walletClientFor(stack.rpcUrl, stack.config.CHAIN_ID, privateKey);
    const { publicKeyHex, publicKey } = deriveEncryptionKeyPair(
      await wallet.signTypedData(keyDerivationTypedData(stack.config.CHAIN_ID)),
    );
    const hash = await wallet.writeContract({ address: registry, abi: patientRegistryAbi, functionName: 'register', args: [publicKeyHex] });
    await client.waitForTransactionReceipt({ hash });
    log(`demo: registered patient ${address} (key ${keyFingerprint(publicKey)})`);
  }
  await seedSimulator(stack, log);
}

/** The simulator's organisations, registered and accredited (idempotent; local chain only). */
export async function seedSimulator(stack: Stack, log: (l: string) => void): Promise<void> {
  const contracts = stack.deployment.contracts;
  if (!contracts.AccessGrants || !contracts.OrganizationRegistry) {
    log('demo: this deployment has no access contracts; the simulator is not prepared');
    return;
  }
  const chain = chainFor(stack.config.CHAIN_ID, stack.rpcUrl);
  const wallet = (index: number) => createWalletClient({ account: mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }), chain, transport: http(stack.rpcUrl) });
  const steps = await prepareOrganizations({
    client: publicClientFor(stack.rpcUrl, stack.config.CHAIN_ID),
    contracts: { AccessGrants: contracts.AccessGrants.address, OrganizationRegistry: contracts.OrganizationRegistry.address },
    accreditor: walletClientFor(stack.rpcUrl, stack.config.CHAIN_ID, ANVIL_ACCOUNTS[0]!.privateKey),
    organizations: { clinic: wallet(SIMULATOR_ACCOUNTS.clinic), emergency: wallet(SIMULATOR_ACCOUNTS.emergency), insurer: wallet(SIMULATOR_ACCOUNTS.insurer) },
    onStep: (s) => log(`demo: simulator ${s.name} ${s.action} (tx ${s.result.hash})`),
  });
  if (steps.length === 0) log(`demo: simulator organisations in place, accredited (${SIMULATOR_ORGANIZATIONS.map((o) => o.name).join(', ')})`);
  else log('demo: the Access Simulator is ready at /simulator');
}
