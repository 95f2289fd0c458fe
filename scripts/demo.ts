/**
 * `npm run demo`: registers a few development accounts as patients, as the web app would, and
 * gives each a synthetic medical history in their encrypted records (idempotent: a second run
 * stores nothing new). The anchor worker anchors them within seconds. It also registers the Access
 * Simulator's organisations (clinic, emergency provider, insurer) and has the local accreditor
 * accredit them, so /simulator starts ready, and creates one research study (type 2 diabetes,
 * aged 18–90, HbA1c ≥ 6.5 %) that a demo patient meets, approved by a local institutional review
 * board (registered and accredited like the simulator's organisations) so it is open, for /eligibility.
 * The study's protocol and consent text (./demo-study-texts.ts) are stored in the blob store and
 * their hashes registered with it.
 */
import { createWalletClient, http, keccak256, toHex, type PublicClient } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { patientRegistryAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { ANVIL_MNEMONIC, fundOnLocalChain, prepareOrganizations, SIMULATOR_ACCOUNTS, SIMULATOR_ORGANIZATIONS } from '@consentry/sdk/access/simulator';
import { chainFor, publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { deriveEncryptionKeyPair, keyDerivationTypedData, keyFingerprint } from '@consentry/sdk/keys';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { seedDemoParticipants } from './demo-participants.ts';
import { synthesizeBundles } from '@consentry/sdk/synth/generate';
import { deriveAttributes } from '@consentry/sdk/zk/attributes';
import { accreditOrganization, readOrganization, registerOrganization } from '@consentry/sdk/access/actions';
import { categoryMask } from '@consentry/sdk/records/categories';
import { approveStudy, createStudy, readStudy, type StudyParamsInput } from '@consentry/sdk/zk/chain';
import { checkEligibility } from '@consentry/sdk/zk/eligibility';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import { describeCriteria, putStudyMetadata, type StudyMetadata } from '@consentry/sdk/zk/study-metadata';
import { putStudyDocument } from '@consentry/sdk/research/study-documents';
import { RecordsService } from '../workers/src/records/service.ts';
import { Vault, vaultOptionsFor } from '../workers/src/records/vault.ts';
import { demoConsentText, demoProtocolText } from './demo-study-texts.ts';
import type { Stack } from './stack.ts';

/** Demo patients: anvil accounts 7..9, leaving 1..6 free to sign up by hand in the app. */
const DEMO_ACCOUNTS = ANVIL_ACCOUNTS.slice(7, 10);
/** Each demo patient's synthetic history (the same every run: the seed fixes it). */
export const demoHistory = (i: number): FhirResource[] => synthesizeBundles({ patients: 1, seed: `demo/${i}` })[0]!.entry.map((e) => e.resource as FhirResource);

/**
 * Runs an idempotent blob-store write again when a temporary file vanished under it: a service of
 * the stack that is still starting (the anchorer, a gateway) opens the filesystem store, and opening
 * removes the store's temporary files, including those another process is writing right then.
 */
async function whileServicesStart<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 5) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** The demo study's researcher: development account 10 (the simulator uses 11–13). */
export const DEMO_RESEARCHER_INDEX = 10;
/** The local institutional review board that approves the demo study: development account 14. */
export const DEMO_IRB_INDEX = 14;
export const DEMO_IRB_NAME = 'Consentry Demo IRB (local)';

/**
 * The demo study's terms: paid in the local test token when it is deployed (5 tUSD per participant
 * per purchase; free otherwise), consent for a year, k = 3, at most 1,000 participants, and the
 * categories its extract takes.
 */
export const demoStudyTerms = (testToken: `0x${string}` | undefined) => ({
  categories: BigInt(categoryMask(['labs', 'conditions', 'medications'])),
  ...(testToken ? { paymentToken: testToken, pricePerParticipant: 5_000_000n } : {}),
  consentDuration: 365n * 24n * 3600n,
  minCohort: 3,
  maxParticipants: 1000,
}) satisfies Omit<StudyParamsInput, 'metadataHash' | 'criteriaHash' | 'protocolHash' | 'consentHash'>;

/**
 * The demo study. Synthetic demo patient 1 (development account 8: type 2 diabetes E11.9, HbA1c
 * 6.9 %, born 1957) meets it; demo patient 0 (account 7: no diabetes) does not.
 */
export const DEMO_STUDY: StudyMetadata = {
  version: 1,
  title: 'Glucose control in adults with type 2 diabetes',
  summary:
    'A demonstration study (synthetic, nobody is treated): adults with type 2 diabetes whose latest HbA1c is at least 6.5 %. ' +
    'You prove that you qualify without telling the study who you are, your age or your values.',
  criteria: { version: 1, age: { min: 18, max: 90 }, hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'] }, credentialMaxAgeDays: 365 },
};

/**
 * Seeds the demo. With `participants: false` the synthetic participants are left to the caller
 * (`npm run demo` enrols them in the background once the proving files exist: seedDemoParticipantsWhenReady).
 */
export async function seedDemo(stack: Stack, log: (l: string) => void, { participants = true }: { participants?: boolean } = {}): Promise<{ studyId: bigint | null }> {
  if (stack.config.CHAIN_ID !== 31337) {
    log('demo: seeding only runs on the local chain (31337); skipped');
    return { studyId: null };
  }
  const client = publicClientFor(stack.rpcUrl, stack.config.CHAIN_ID);
  const registry = stack.deployment.contracts.PatientRegistry.address;
  await seedDemoRecords(stack, log);
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
  if (stack.deployment.contracts.StudyRegistry) {
    const { studyId } = await seedStudy(stack, log);
    if (participants) await seedDemoParticipants(stack, log, studyId, DEMO_STUDY.criteria);
    return { studyId };
  }
  log('demo: this deployment has no study contracts; no study is created');
  return { studyId: null };
}

/**
 * Gives demo patients `which` (0..2: development accounts 7..9) their synthetic histories in their
 * encrypted records, as the web app's import would (idempotent).
 */
export async function seedDemoRecords(stack: Stack, log: (l: string) => void, which: readonly number[] = [0, 1, 2]): Promise<void> {
  const vault = await Vault.open(vaultOptionsFor(stack.config, stack.env));
  const blobs = await blobStoreFromEnv({ ...stack.env, DATA_DIR: stack.config.DATA_DIR });
  try {
    for (const i of which) {
      const { privateKey, address } = DEMO_ACCOUNTS[i]!;
      const wallet = walletClientFor(stack.rpcUrl, stack.config.CHAIN_ID, privateKey);
      const keys = deriveEncryptionKeyPair(await wallet.signTypedData(keyDerivationTypedData(stack.config.CHAIN_ID)));
      const history = demoHistory(i);
      const result = await whileServicesStart(() => new RecordsService({ vault, blobs, patient: address, keys }).importResources(history));
      log(`demo: ${address} has ${history.length} synthetic records (${result.stored} new)`);
    }
  } finally {
    await vault.close();
  }
}

/**
 * Creates a study with `metadata` unless one with the same description, criteria, protocol and
 * consent text exists (idempotent), after storing the description, the protocol and the consent
 * text in the blob store under their hashes; says which demo patients meet it (their attributes
 * derived from their synthetic histories, checked as the page checks them).
 */
export async function seedStudy(stack: Stack, log: (l: string) => void, metadata: StudyMetadata = DEMO_STUDY): Promise<{ studyId: bigint; created: boolean }> {
  const c = stack.deployment.contracts;
  if (!c.StudyRegistry || !c.IssuerRegistry || !c.EligibilityVerifier) throw new Error('This deployment has no study contracts (StudyRegistry); restart with npm start to deploy them');
  const client = publicClientFor(stack.rpcUrl, stack.config.CHAIN_ID) as PublicClient;
  const contracts = { StudyRegistry: c.StudyRegistry.address, IssuerRegistry: c.IssuerRegistry.address, EligibilityVerifier: c.EligibilityVerifier.address };
  const blobs = await blobStoreFromEnv({ ...stack.env, DATA_DIR: stack.config.DATA_DIR });
  const { metadataHash } = await whileServicesStart(() => putStudyMetadata(blobs, metadata));
  const terms = demoStudyTerms(c.TestToken?.address);
  const { hash: protocolHash } = await whileServicesStart(() => putStudyDocument(blobs, demoProtocolText(metadata, terms, DEMO_IRB_NAME)));
  const { hash: consentHash } = await whileServicesStart(() => putStudyDocument(blobs, demoConsentText(metadata, terms, DEMO_IRB_NAME)));
  const { criteriaHash } = compileCriteria(metadata.criteria);
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const count = await client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'studyCount' });
  let studyId: bigint | undefined;
  for (let id = 1n; id <= count && studyId === undefined; id++) {
    const s = await readStudy(client, contracts, id);
    if (s && same(s.metadataHash, metadataHash) && s.criteriaHash === criteriaHash && same(s.protocolHash, protocolHash) && same(s.consentHash, consentHash)) studyId = id;
  }
  const created = studyId === undefined;
  if (studyId === undefined) {
    const researcher = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: DEMO_RESEARCHER_INDEX });
    await fundOnLocalChain(client, researcher.address);
    const wallet = createWalletClient({ account: researcher, chain: chainFor(stack.config.CHAIN_ID, stack.rpcUrl), transport: http(stack.rpcUrl) });
    const result = await createStudy({ wallet, client, contracts }, { metadataHash, criteriaHash, protocolHash, consentHash, ...terms });
    studyId = result.studyId;
    log(`demo: created study #${studyId} with its protocol ${protocolHash} and consent text ${consentHash} (tx ${result.hash})`);
  }
  if ((await readStudy(client, contracts, studyId))?.status === 'Pending') {
    const irb = await seedIrb(stack, log);
    const result = await approveStudy({ wallet: irb, client, contracts }, studyId, keccak256(toHex(`${DEMO_IRB_NAME}: demonstration study, synthetic data only`)));
    log(`demo: ${DEMO_IRB_NAME} approved study #${studyId} (tx ${result.hash})`);
  }
  const now = Math.floor(Date.now() / 1000);
  const meets = DEMO_ACCOUNTS.flatMap((a, i) => {
    try {
      return checkEligibility(deriveAttributes(demoHistory(i), { now: new Date(now * 1000) }), metadata.criteria, { time: now }).eligible ? [`development account ${7 + i} (${a.address})`] : [];
    } catch {
      return [];
    }
  });
  log(`demo: study #${studyId} "${metadata.title}": ${describeCriteria(metadata.criteria).map((x) => x.text).join('; ')}`);
  log(`demo: study #${studyId} is met by ${meets.length > 0 ? meets.join(', ') : 'none of the demo patients'}; open /eligibility to prove and enrol`);
  return { studyId, created };
}

/** The demo IRB, registered and accredited by the local accreditor (idempotent); returns its wallet. */
async function seedIrb(stack: Stack, log: (l: string) => void) {
  const c = stack.deployment.contracts;
  if (!c.OrganizationRegistry || !c.AccessGrants) throw new Error('This deployment has no OrganizationRegistry: no IRB can approve the demo study');
  const client = publicClientFor(stack.rpcUrl, stack.config.CHAIN_ID) as PublicClient;
  const contracts = { AccessGrants: c.AccessGrants.address, OrganizationRegistry: c.OrganizationRegistry.address };
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: DEMO_IRB_INDEX });
  const wallet = createWalletClient({ account, chain: chainFor(stack.config.CHAIN_ID, stack.rpcUrl), transport: http(stack.rpcUrl) });
  await fundOnLocalChain(client, account.address);
  const state = await readOrganization(client, contracts, account.address);
  if (!state.registered) {
    const r = await registerOrganization({ wallet, client, contracts }, { kind: 'irb', name: DEMO_IRB_NAME });
    log(`demo: registered ${DEMO_IRB_NAME} ${account.address} (tx ${r.hash})`);
  } else if (state.kind !== 'irb') {
    throw new Error(`Account ${account.address} is registered as ${state.kind}, not an IRB: development account ${DEMO_IRB_INDEX} was used for something else on this chain`);
  }
  if (!state.accredited) {
    const accreditor = walletClientFor(stack.rpcUrl, stack.config.CHAIN_ID, ANVIL_ACCOUNTS[0]!.privateKey);
    const now = Number((await client.getBlock({ blockTag: 'latest' })).timestamp);
    const r = await accreditOrganization({ wallet: accreditor, client, contracts }, { organization: account.address, until: now + 365 * 24 * 3600 });
    log(`demo: accredited ${DEMO_IRB_NAME} (tx ${r.hash})`);
  }
  return wallet;
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
