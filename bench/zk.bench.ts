/**
 * The zero-knowledge eligibility proof (circuits/main/eligibility.circom, Groth16 on BN254), with the
 * proving files built by `npm run circuits:setup`, against doing the same checks in the clear.
 *   zk.constraints                         R1CS constraints of the circuit
 *   zk.prove_ms                            proveEligibility in Node, warm (artifacts in memory, one warm-up), median of 7
 *   zk.witness_ms                          of which the witness (WASM) alone, median of 7
 *   zk.verify_ms                           snarkjs groth16.verify, median of 7
 *   zk.verify_gas                          gasUsed of a transaction calling EligibilityGroth16Verifier.verifyProof on
 *                                          anvil (gas set explicitly: estimation under-counts the pairing)
 *   zk.zkey_mb / zk.wasm_mb                the proving key and witness generator a browser downloads
 *   zk.baseline.clear_check_ms             the baseline: checking the credential's signature (verifyCredential) and
 *                                          the criteria (checkEligibility) in plain JS, as the verifier could if the
 *                                          patient showed everything, median of 7
 *   zk.baseline.ecrecover_tx_gas           the baseline on chain: a transaction calling the ecrecover precompile (an
 *                                          ordinary signature check) with the same gas limit
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { encodeFunctionData, type Abi, type Hex } from 'viem';
import { publicClientFor, walletClientFor } from '../sdk/src/clients.ts';
import { REPO_ROOT } from '../sdk/src/config.ts';
import '../sdk/src/polyfills.ts';
import { ANVIL_ACCOUNTS, startAnvil } from '../sdk/src/testing/anvil.ts';
import { nodeArtifacts } from '../sdk/src/zk/artifacts.node.ts';
import { issuerKeyFromSecret, issuerLeaf, signCredential, verifyCredential } from '../sdk/src/zk/credential.ts';
import { checkEligibility } from '../sdk/src/zk/eligibility.ts';
import { identityCommitment, identitySecretFromSeed } from '../sdk/src/zk/identity.ts';
import { eligibilityInput, proveEligibility, publicSignalsOf, verifyEligibilityProof, type EligibilityProofBundle } from '../sdk/src/zk/prove.ts';
import type { Criteria } from '../sdk/src/zk/types.ts';

const RUNS = 7;
const DAY = 86_400;
const GAS = 1_000_000n;
const enc = (s: string) => new TextEncoder().encode(s);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timeMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const files = nodeArtifacts();
const artifacts = { wasm: readFileSync(files.wasm as string), zkey: readFileSync(files.zkey as string) };
const stamp = JSON.parse(readFileSync(join(REPO_ROOT, 'circuits', 'build', 'stamp.json'), 'utf8')) as { constraints: number };

// A synthetic patient meeting a study that uses every kind of criterion.
const issuers = Array.from({ length: 20 }, (_, i) => issuerKeyFromSecret(enc(`bench-zk-issuer-${i}`)));
const time = Math.floor(Date.now() / 1000);
const secret = identitySecretFromSeed(enc('bench-zk-patient-seed-0001'));
const credential = signCredential(issuers[7]!, {
  attributes: { birthDate: '1968-04-30', sex: 'male', smoker: 'former', conditions: ['E11.65', 'I10', 'E78.5'], measures: { hba1c: 8.1, bmi: 32.4, glucose: 171 } },
  identityCommitment: identityCommitment(secret),
  issuedAt: time - 20 * DAY,
  expiresAt: time + 345 * DAY,
});
const criteria: Criteria = {
  version: 1,
  age: { min: 40, max: 75 },
  sex: ['male', 'female'],
  smoker: ['never', 'former'],
  hba1c: { min: 7, max: 11 },
  bmi: { min: 27 },
  conditions: { anyOf: ['E11.*'], noneOf: ['C*', 'N18.5', 'N18.6', 'F20.*'] },
  credentialMaxAgeDays: 180,
};
const request = {
  credential,
  secret,
  criteria,
  studyId: 1n,
  recipient: ANVIL_ACCOUNTS[1]!.address,
  issuerLeaves: issuers.map((k) => issuerLeaf(k.publicKey)),
  time,
  artifacts,
};

// Prove: one warm-up (snarkjs builds its curve and worker threads), then RUNS timed.
let bundle: EligibilityProofBundle = await proveEligibility(request);
const proveMs: number[] = [];
for (let i = 0; i < RUNS; i++) proveMs.push(await timeMs(async () => (bundle = await proveEligibility(request))));
const { signals } = eligibilityInput(request);
const witnessMs: number[] = [];
for (let i = 0; i < RUNS; i++) witnessMs.push(await timeMs(() => snarkjs.wtns.calculate(signals, artifacts.wasm, { type: 'mem', data: new Uint8Array(0) })));
if (!(await verifyEligibilityProof(bundle, files.verificationKey))) throw new Error('the benchmark proof does not verify');
const verifyMs: number[] = [];
for (let i = 0; i < RUNS; i++) verifyMs.push(await timeMs(() => verifyEligibilityProof(bundle, files.verificationKey)));
const clearMs: number[] = [];
for (let i = 0; i < RUNS; i++) {
  clearMs.push(
    await timeMs(() => {
      if (!verifyCredential(credential) || !checkEligibility(credential.attributes, criteria, { time, credential }).eligible) throw new Error('not eligible in the clear');
    }),
  );
}

// On chain: the generated verifier, deployed on anvil.
const anvil = await startAnvil();
let verifyGas = 0;
let ecrecoverGas = 0;
try {
  const artifact = JSON.parse(readFileSync(join(REPO_ROOT, 'contracts', 'out', 'EligibilityGroth16Verifier.sol', 'EligibilityGroth16Verifier.json'), 'utf8')) as {
    abi: Abi;
    bytecode: { object: Hex };
  };
  const client = publicClientFor(anvil.rpcUrl, 31337);
  const wallet = walletClientFor(anvil.rpcUrl, 31337, ANVIL_ACCOUNTS[0]!.privateKey);
  const deployHash = await wallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode.object, gas: 3_000_000n });
  const address = (await client.waitForTransactionReceipt({ hash: deployHash })).contractAddress!;
  const p = bundle.proof;
  const args = [
    [p[0], p[1]],
    [
      [p[2], p[3]],
      [p[4], p[5]],
    ],
    [p[6], p[7]],
    publicSignalsOf(bundle),
  ] as const;
  const data = encodeFunctionData({ abi: artifact.abi, functionName: 'verifyProof', args });
  // The verifier answers false (not a revert) for a bad proof or too little gas: check it says true.
  const { data: answer } = await client.call({ to: address, data, gas: GAS });
  if (answer === undefined || BigInt(answer) !== 1n) throw new Error('the deployed verifier rejects the benchmark proof');
  const hash = await wallet.sendTransaction({ to: address, data, gas: GAS });
  verifyGas = Number((await client.waitForTransactionReceipt({ hash })).gasUsed);

  // ecrecover(hash, v, r, s) on the precompile at 0x01: 128 bytes of input.
  const ecHash = await wallet.sendTransaction({ to: '0x0000000000000000000000000000000000000001', data: `0x${'11'.repeat(32)}${'00'.repeat(31)}1b${'22'.repeat(32)}${'33'.repeat(32)}`, gas: GAS });
  ecrecoverGas = Number((await client.waitForTransactionReceipt({ hash: ecHash })).gasUsed);
} finally {
  await anvil.stop();
}

console.log(`zk.constraints: ${stamp.constraints} constraints`);
console.log(`zk.prove_ms: ${Math.round(median(proveMs))} ms`);
console.log(`zk.witness_ms: ${Math.round(median(witnessMs))} ms`);
console.log(`zk.verify_ms: ${median(verifyMs).toFixed(1)} ms`);
console.log(`zk.verify_gas: ${verifyGas} gas`);
console.log(`zk.zkey_mb: ${(statSync(files.zkey as string).size / 2 ** 20).toFixed(1)} MB`);
console.log(`zk.wasm_mb: ${(statSync(files.wasm as string).size / 2 ** 20).toFixed(1)} MB`);
console.log(`zk.baseline.clear_check_ms: ${median(clearMs).toFixed(1)} ms`);
console.log(`zk.baseline.ecrecover_tx_gas: ${ecrecoverGas} gas`);
process.exit(0); // snarkjs's worker threads keep Node alive otherwise
