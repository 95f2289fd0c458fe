/**
 * Writes contracts/test/fixtures/eligibility.json: real eligibility proofs for the forge tests
 * (synthetic data only), made with the circuit built by `npm run circuits:setup`.
 *
 *   node --import tsx circuits/scripts/fixture.ts        (npm run fixture -w @consentry/circuits)
 *
 * Two issuers (secrets "consentry-fixture-issuer-0" and "-1", inserted in that order), one patient
 * whose credential issuer 1 signed, two studies (ids 1 and 2, different criteria), one proof each,
 * all at time 1767225600 (2026-01-01T00:00:00Z) for recipient 0x…A11cE. Every number is a decimal
 * string. Each proof is verified with the verification key before the file is written.
 *
 * `relayed`: a second patient (seed "consentry-fixture-relayed-patient", same issuer) proving study
 * 1's criteria for a recipient whose private key is a published test key (RELAYED_KEY, never to
 * hold value), so the forge tests can sign an ERC-2771 forward request as the participant and
 * enroll through the forwarder with a real proof.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keccak256, toHex, type Address } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { REPO_ROOT } from '../../sdk/src/config.ts';
import { nodeArtifacts } from '../../sdk/src/zk/artifacts.node.ts';
import { issuerKeyFromSecret, issuerLeaf, signCredential } from '../../sdk/src/zk/credential.ts';
import { identityCommitment, identitySecretFromSeed } from '../../sdk/src/zk/identity.ts';
import { issuersTree } from '../../sdk/src/zk/issuers-tree.ts';
import { proveEligibility, verifyEligibilityProof } from '../../sdk/src/zk/prove.ts';
import type { Attributes, Criteria } from '../../sdk/src/zk/types.ts';
import '../../sdk/src/polyfills.ts';

export const FIXTURE_PATH = join(REPO_ROOT, 'contracts', 'test', 'fixtures', 'eligibility.json');
const DAY = 86_400;
const enc = (s: string) => new TextEncoder().encode(s);

export const FIXTURE = {
  issuerSecrets: ['consentry-fixture-issuer-0', 'consentry-fixture-issuer-1'],
  signer: 1,
  patientSeed: 'consentry-fixture-patient-seed',
  time: 1_767_225_600,
  recipient: '0x00000000000000000000000000000000000A11cE' as Address,
  attributes: {
    birthDate: '1970-06-15',
    sex: 'female',
    smoker: 'never',
    conditions: ['E11.9', 'I10'],
    measures: { hba1c: 7.4, bmi: 29.3 },
  } satisfies Attributes,
  relayedPatientSeed: 'consentry-fixture-relayed-patient',
  studies: [
    {
      studyId: 1n,
      criteria: {
        version: 1,
        age: { min: 18, max: 75 },
        hba1c: { min: 6.5 },
        conditions: { anyOf: ['E11.*'], noneOf: ['C*'] },
        credentialMaxAgeDays: 180,
      } satisfies Criteria,
    },
    {
      studyId: 2n,
      criteria: {
        version: 1,
        sex: ['female'],
        smoker: ['never', 'former'],
        bmi: { max: 35 },
        conditions: { noneOf: ['F*'] },
      } satisfies Criteria,
    },
  ],
};

async function main(): Promise<void> {
  const artifacts = nodeArtifacts();
  const issuers = FIXTURE.issuerSecrets.map((s) => issuerKeyFromSecret(enc(s)));
  const leaves = issuers.map((k) => issuerLeaf(k.publicKey));
  const secret = identitySecretFromSeed(enc(FIXTURE.patientSeed));
  const credential = signCredential(issuers[FIXTURE.signer]!, {
    attributes: FIXTURE.attributes,
    identityCommitment: identityCommitment(secret),
    issuedAt: FIXTURE.time - 30 * DAY,
    expiresAt: FIXTURE.time + 365 * DAY,
  });
  const studies = [];
  for (const study of FIXTURE.studies) {
    const bundle = await proveEligibility({
      credential,
      secret,
      criteria: study.criteria,
      studyId: study.studyId,
      recipient: FIXTURE.recipient,
      issuerLeaves: leaves,
      time: FIXTURE.time,
      artifacts,
    });
    if (!(await verifyEligibilityProof(bundle, artifacts.verificationKey))) throw new Error(`The proof for study ${study.studyId} does not verify`);
    studies.push({
      studyId: study.studyId.toString(),
      criteria: study.criteria,
      criteriaHash: bundle.criteriaHash.toString(),
      nullifier: bundle.nullifier.toString(),
      proof: bundle.proof.map(String),
    });
  }
  // The relayed participant: another person (another identity, so another nullifier) for study 1.
  const relayedKey = keccak256(toHex('consentry-fixture-relayed-participant'));
  const relayedRecipient = privateKeyToAddress(relayedKey);
  const relayedSecret = identitySecretFromSeed(enc(FIXTURE.relayedPatientSeed));
  const relayedCredential = signCredential(issuers[FIXTURE.signer]!, {
    attributes: FIXTURE.attributes,
    identityCommitment: identityCommitment(relayedSecret),
    issuedAt: FIXTURE.time - 30 * DAY,
    expiresAt: FIXTURE.time + 365 * DAY,
  });
  const relayedBundle = await proveEligibility({
    credential: relayedCredential,
    secret: relayedSecret,
    criteria: FIXTURE.studies[0]!.criteria,
    studyId: FIXTURE.studies[0]!.studyId,
    recipient: relayedRecipient,
    issuerLeaves: leaves,
    time: FIXTURE.time,
    artifacts,
  });
  if (!(await verifyEligibilityProof(relayedBundle, artifacts.verificationKey))) throw new Error('The relayed proof does not verify');
  const fixture = {
    comment: 'Generated by circuits/scripts/fixture.ts from the circuit built by `npm run circuits:setup` (development keys); synthetic data. Do not edit.',
    issuers: issuers.map((k, i) => ({
      secret: FIXTURE.issuerSecrets[i],
      publicKey: k.publicKey.map(String),
      leaf: leaves[i]!.toString(),
    })),
    issuersRoot: issuersTree(leaves).root.toString(),
    signer: FIXTURE.signer,
    time: String(FIXTURE.time),
    recipient: FIXTURE.recipient,
    credential: { issuedAt: String(credential.issuedAt), expiresAt: String(credential.expiresAt) },
    studies,
    relayed: {
      privateKey: relayedKey,
      recipient: relayedRecipient,
      studyId: FIXTURE.studies[0]!.studyId.toString(),
      criteriaHash: relayedBundle.criteriaHash.toString(),
      nullifier: relayedBundle.nullifier.toString(),
      proof: relayedBundle.proof.map(String),
    },
  };
  writeFileSync(FIXTURE_PATH, `${JSON.stringify(fixture, null, 2)}\n`);
  console.log(`wrote ${FIXTURE_PATH.slice(REPO_ROOT.length + 1)}: root ${fixture.issuersRoot}, ${studies.length} studies, each proof verified`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0), // snarkjs's worker threads keep Node alive otherwise
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
