/**
 * Synthetic participants for the demo study (`npm run demo`), so that a researcher can buy at once
 * (the study's k is 3). Each goes through the running services exactly as a patient's browser does:
 * its synthetic records go to the credential issuer (POST /credentials), the de-identified extract is
 * built and sealed to the release committee and stored with the checks of POST /api/extracts, the
 * eligibility proof is made for its per-study address, and the enrolment is signed by that address
 * and sent by the relayer (nobody funds it). Their identities come from fixed seeds, so a second run
 * finds them enrolled and does nothing. Synthetic data only: nobody real is behind them.
 */
import { encodeFunctionData, type PublicClient } from 'viem';
import { studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { readCommittee } from '@consentry/sdk/access/release';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import { publicClientFor } from '@consentry/sdk/clients';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { toBase64 } from '@consentry/sdk/records/versions';
import { buildExtract } from '@consentry/sdk/research/extract';
import { relay, signForwardRequest } from '@consentry/sdk/research/forwarder';
import { sealExtract } from '@consentry/sdk/research/seal-extract';
import { synthesizeBundles } from '@consentry/sdk/synth/generate';
import { nodeArtifacts } from '@consentry/sdk/zk/artifacts.node';
import { deriveAttributes } from '@consentry/sdk/zk/attributes';
import { eligibilityProofArgs, isEnrolled, readIssuerLeaves, readStudy } from '@consentry/sdk/zk/chain';
import { parseCredential } from '@consentry/sdk/zk/credential';
import { checkEligibility } from '@consentry/sdk/zk/eligibility';
import { identityCommitment, identitySecretFromSeed } from '@consentry/sdk/zk/identity';
import { studyAccount } from '@consentry/sdk/zk/study-account';
import type { Criteria } from '@consentry/sdk/zk/types';
import { Vault, vaultOptionsFor } from '../workers/src/records/vault.ts';
import { storeExtractFromChain } from '../workers/src/research/extracts.ts';
import type { Stack } from './stack.ts';

/** How many synthetic participants the demo enrols: the demo study's k, so a purchase is possible. */
export const DEMO_PARTICIPANTS = 3;
/** Gas the forwarder gives an enrolment (541k measured through the relayer: README, market.enroll_relayed_gas). */
const ENROLL_GAS = 1_000_000n;

/** The first `count` synthetic histories (seeds `demo/participant/<j>`) that meet `criteria` now. */
export function eligibleSyntheticHistories(criteria: Criteria, count: number, now = new Date()): Array<{ seed: string; resources: FhirResource[] }> {
  const out: Array<{ seed: string; resources: FhirResource[] }> = [];
  const time = Math.floor(now.getTime() / 1000);
  for (let j = 0; j < 2000 && out.length < count; j++) {
    const seed = `demo/participant/${j}`;
    const resources = synthesizeBundles({ patients: 1, seed })[0]!.entry.map((e) => e.resource as FhirResource);
    try {
      if (checkEligibility(deriveAttributes(resources, { now }), criteria, { time }).eligible) out.push({ seed, resources });
    } catch {
      // a history the attributes cannot be derived from: not a participant
    }
  }
  if (out.length < count) throw new Error(`Only ${out.length} of 2000 synthetic histories meet the study's criteria; ${count} are needed`);
  return out;
}

/** Enrols the demo's synthetic participants in `studyId` through the running services; resolves with how many are enrolled. */
export async function seedDemoParticipants(stack: Stack, log: (l: string) => void, studyId: bigint, criteria: Criteria, count = DEMO_PARTICIPANTS): Promise<number> {
  const c = stack.deployment.contracts;
  const issuerUrl = stack.env.ISSUER_URL;
  const relayerUrl = stack.env.RELAYER_URL;
  if (!c.StudyRegistry || !c.IssuerRegistry || !c.EligibilityVerifier || !c.ReleaseCommittee || !c.Forwarder || !issuerUrl || !relayerUrl) {
    log('demo: no participants enrolled (this stack has no issuer, relayer or market contracts)');
    return 0;
  }
  let artifacts: ReturnType<typeof nodeArtifacts>;
  try {
    artifacts = nodeArtifacts();
  } catch {
    log('demo: no participants enrolled yet: the proving files are still being built (see .consentry/circuits-setup.log); run `npm run demo` again once they are');
    return 0;
  }
  const client = publicClientFor(stack.rpcUrl, stack.config.CHAIN_ID) as PublicClient;
  const blobs = await blobStoreFromEnv({ ...stack.env, DATA_DIR: stack.config.DATA_DIR });
  const contracts = { StudyRegistry: c.StudyRegistry.address, IssuerRegistry: c.IssuerRegistry.address, EligibilityVerifier: c.EligibilityVerifier.address };
  const study = await readStudy(client, contracts, studyId);
  if (study?.status !== 'Approved') {
    log(`demo: study #${studyId} is not approved and open; no participants enrolled`);
    return 0;
  }
  let enrolled = 0;
  for (const { seed, resources } of eligibleSyntheticHistories(criteria, count)) {
    const secret = identitySecretFromSeed(new TextEncoder().encode(`consentry ${seed}`));
    const account = studyAccount(secret, studyId);
    if (await isEnrolled(client, contracts, studyId, account.address)) {
      enrolled++;
      continue;
    }
    const credential = await issueCredential(issuerUrl, resources, identityCommitment(secret));
    const committee = await readCommittee(client, c.ReleaseCommittee.address);
    const sealed = await sealExtract(buildExtract(resources, { categories: study.categories }), { committee, studyId });
    // The same checks and storage as POST /api/extracts (the demo writes the vault directly, as it does records).
    const vault = await Vault.open(vaultOptionsFor(stack.config, stack.env));
    try {
      await storeExtractFromChain(
        { vault, blobs, client, contracts: { ReleaseCommittee: c.ReleaseCommittee.address, StudyRegistry: c.StudyRegistry.address } },
        { studyId: studyId.toString(), ciphertext: toBase64(sealed.ciphertext), shares: sealed.shares.map((s) => ({ member: s.memberId, sealedShare: toBase64(s.sealed) })) },
      );
    } finally {
      await vault.close();
    }
    const [{ leaves }, block] = await Promise.all([readIssuerLeaves(client, contracts, { fromBlock: BigInt(stack.deployment.startBlock) }), client.getBlock()]);
    const chainNow = Number(block.timestamp);
    // A credential stamped a moment ahead of the chain's clock is proven at its issue time (inside the window).
    const ahead = credential.issuedAt - chainNow;
    const time = ahead > 0 && ahead <= 240 ? credential.issuedAt : chainNow;
    const { proveEligibility } = await import('@consentry/sdk/zk/prove');
    const proof = await proveEligibility({ credential, secret, criteria, studyId, recipient: account.address, issuerLeaves: leaves, time, artifacts });
    const data = encodeFunctionData({ abi: studyRegistryAbi, functionName: 'enroll', args: [studyId, eligibilityProofArgs(proof), sealed.extractHash] });
    const request = await signForwardRequest(account, { client, address: c.Forwarder.address }, { to: c.StudyRegistry.address, data, gas: ENROLL_GAS, deadline: chainNow + 600 });
    const sent = await relay(relayerUrl, request);
    if (sent.status !== 'success') throw new Error(`The relayer could not enrol synthetic participant ${seed}: ${JSON.stringify(sent)}`);
    enrolled++;
    log(`demo: synthetic participant ${account.address} (${seed}) enrolled in study #${studyId} through the relayer (tx ${sent.hash})`);
  }
  log(`demo: study #${studyId} has ${enrolled} synthetic participants enrolled by the demo; a researcher can buy: npm run consentry -- buy ${studyId} --dev-account 3 --faucet --yes --out <dir>`);
  return enrolled;
}

/**
 * Waits (in the background of `npm run demo`) for the proving files the first start builds, then
 * enrols the participants. Says once that it is waiting; gives up in words after `timeoutMs`.
 */
export async function seedDemoParticipantsWhenReady(stack: Stack, log: (l: string) => void, studyId: bigint, criteria: Criteria, { timeoutMs = 30 * 60_000, signal }: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    try {
      nodeArtifacts();
      break;
    } catch {
      if (!said) log('demo: the synthetic participants will enrol once the proving files are built (the first start takes several minutes)');
      said = true;
    }
    if (signal?.aborted) return 0;
    if (Date.now() > deadline) {
      log('demo: the proving files were not built in time; run `npm run demo` again once they are');
      return 0;
    }
    await new Promise((r) => setTimeout(r, 5_000));
  }
  return seedDemoParticipants(stack, log, studyId, criteria);
}

async function issueCredential(issuerUrl: string, resources: FhirResource[], commitment: bigint) {
  const body = (await postJson(`${issuerUrl}/credentials`, { resources, identityCommitment: commitment.toString() }, 'the credential issuer')) as { credential?: unknown };
  return parseCredential(body.credential);
}

async function postJson(url: string, body: unknown, who: string): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  const answer = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (!res.ok || !answer || answer.error) throw new Error(`${who} refused: ${answer?.error?.message ?? `HTTP ${res.status}`}`);
  return answer;
}

