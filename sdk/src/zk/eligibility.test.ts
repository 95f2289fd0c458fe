// checkEligibility: each criterion's failure in words, and the equivalence "eligible here ⇔ the
// circuit's constraints hold" on synthetic patients × fixed and random criteria × proof times. The
// reference below is the circuit's constraint list (decision 018) written out over the encoded
// attributes and compiled criteria, independently of eligibility.ts; and against the circuit itself:
// a witness exists exactly when checkEligibility says eligible (circuits/build, npm run circuits:setup).
import * as snarkjs from 'snarkjs';
import { describe, expect, it } from 'vitest';
import { prng, synthesizeBundles } from '../synth/generate.ts';
import { nodeArtifacts } from './artifacts.node.ts';
import { deriveAttributes } from './attributes.ts';
import { issuerKeyFromSecret, issuerLeaf, signCredential } from './credential.ts';
import { checkEligibility } from './eligibility.ts';
import { identityCommitment, identitySecretFromSeed } from './identity.ts';
import { compileCriteria, CriteriaError, encodeAttributes, SECONDS_1900_TO_1970, YEAR_SECONDS } from './layout.ts';
import { eligibilityInput } from './prove.ts';
import { MEASURES, MEASURE_NAMES, SEXES, SMOKER_STATUSES, type Attributes, type Criteria } from './types.ts';

const DAY = 86_400;
const TIME = Date.UTC(2026, 0, 1) / 1000;
const base: Attributes = {
  birthDate: '1974-03-10',
  sex: 'female',
  smoker: 'current',
  conditions: ['F17.210', 'E11.9', 'I10'],
  measures: { hba1c: 7.4, glucose: 140, bmi: 31.2 },
};
const check = (criteria: Omit<Criteria, 'version'>, a: Attributes = base, opts: Partial<Parameters<typeof checkEligibility>[2]> = {}) =>
  checkEligibility(a, { version: 1, ...criteria }, { time: TIME, ...opts });

/** The circuit's constraints over attrs[16] and crit[32], one by one. */
function circuitAccepts(attrs: bigint[], crit: bigint[], time: number, credential?: { issuedAt: number; expiresAt: number }): boolean {
  const t = BigInt(time) + BigInt(SECONDS_1900_TO_1970);
  if (attrs[0]! > t) return false;
  const age = t - attrs[0]!;
  if (age < crit[0]! || age > crit[1]!) return false;
  if (((crit[2]! >> attrs[1]!) & 1n) !== 1n) return false;
  if (((crit[3]! >> attrs[2]!) & 1n) !== 1n) return false;
  for (let i = 0; i < 5; i++) if (attrs[3 + i]! < crit[4 + 2 * i]! || attrs[3 + i]! > crit[5 + 2 * i]!) return false;
  const codes = attrs.slice(8, 16);
  const within = (v: bigint, at: number) => [0, 1, 2, 3].some((k) => crit[at + 2 * k]! <= v && v <= crit[at + 2 * k + 1]!);
  if (crit[22] === 1n && !codes.some((v) => v !== 0n && within(v, 14))) return false;
  if (codes.some((v) => within(v, 23))) return false;
  if (credential) {
    if (credential.issuedAt > time || BigInt(time - credential.issuedAt) > crit[31]!) return false;
    if (time >= credential.expiresAt) return false;
  }
  return true;
}

describe('checkEligibility in words', () => {
  it('eligible: no failures', () => {
    expect(check({ age: { min: 40, max: 60 }, sex: ['female'], hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'] } })).toEqual({ eligible: true, failures: [] });
  });

  it('age above the maximum, below the minimum, born after the proof time', () => {
    expect(check({ age: { max: 45 } }).failures).toEqual([{ criterion: 'age', message: 'age 51 is above the maximum 45' }]);
    expect(check({ age: { min: 60 } }).failures).toEqual([{ criterion: 'age', message: 'age 51 is below the minimum 60' }]);
    expect(check({ age: { min: 0 } }, { ...base, birthDate: '2026-06-01' }).failures).toEqual([{ criterion: 'age', message: 'the birth date 2026-06-01 is after the proof time 2026-01-01' }]);
  });

  it('age in whole years of 365.2425 days, exactly at the boundary', () => {
    const birth = Date.UTC(2000, 0, 1) / 1000;
    const at18 = birth + 18 * YEAR_SECONDS;
    const a = { ...base, birthDate: '2000-01-01' };
    expect(checkEligibility(a, { version: 1, age: { min: 18 } }, { time: at18 - 1 }).failures[0]?.message).toBe('age 17 is below the minimum 18');
    expect(checkEligibility(a, { version: 1, age: { min: 18 } }, { time: at18 }).eligible).toBe(true);
    expect(checkEligibility(a, { version: 1, age: { max: 17 } }, { time: at18 - 1 }).eligible).toBe(true);
    expect(checkEligibility(a, { version: 1, age: { max: 17 } }, { time: at18 }).failures[0]?.message).toBe('age 18 is above the maximum 17');
  });

  it('sex and smoking status not among those asked', () => {
    expect(check({ sex: ['male'] }).failures).toEqual([{ criterion: 'sex', message: 'sex female is not among male' }]);
    expect(check({ smoker: ['never', 'former'] }).failures).toEqual([{ criterion: 'smoker', message: 'smoking status current is not among never or former' }]);
  });

  it('measures: never measured, below, above (in the measure\'s unit)', () => {
    expect(check({ cholesterol: { max: 240 } }).failures).toEqual([{ criterion: 'cholesterol', message: 'Total cholesterol was never measured' }]);
    expect(check({ phq9: { min: 10 } }).failures).toEqual([{ criterion: 'phq9', message: 'PHQ-9 depression score was never measured' }]);
    expect(check({ hba1c: { min: 7.5 } }).failures).toEqual([{ criterion: 'hba1c', message: 'HbA1c 7.4 % is below the minimum 7.5 %' }]);
    expect(check({ bmi: { max: 30 } }).failures).toEqual([{ criterion: 'bmi', message: 'BMI 31.2 kg/m2 is above the maximum 30 kg/m2' }]);
    expect(check({ phq9: { max: 5 } }, { ...base, measures: { phq9: 12 } }).failures).toEqual([{ criterion: 'phq9', message: 'PHQ-9 depression score 12 is above the maximum 5' }]);
    // A bound at the value itself holds (the circuit's ranges are inclusive).
    expect(check({ hba1c: { min: 7.4, max: 7.4 } }).eligible).toBe(true);
  });

  it('conditions: none matches anyOf, one is excluded by noneOf (naming the pattern)', () => {
    expect(check({ conditions: { anyOf: ['J45.*', 'E10.*'] } }).failures).toEqual([{ criterion: 'conditions.anyOf', message: 'no condition matches any of J45.* or E10.*' }]);
    expect(check({ conditions: { anyOf: ['E11.*'] } }, { ...base, conditions: [] }).failures).toEqual([{ criterion: 'conditions.anyOf', message: 'no condition is recorded, and the study asks for any of E11.*' }]);
    expect(check({ conditions: { noneOf: ['F10.*', 'F17.*'] } }).failures).toEqual([{ criterion: 'conditions.noneOf', message: 'condition F17.210 is excluded (F17.*)' }]);
    expect(check({ conditions: { noneOf: ['I10', 'E11.9'] } }).failures.map((f) => f.message)).toEqual(['condition E11.9 is excluded (E11.9)', 'condition I10 is excluded (I10)']);
    // A prefix covers the bare category code too (E11 is in E11.*), and nothing outside it (E110 is not E11.0's neighbour E12).
    expect(check({ conditions: { anyOf: ['E11.*'] } }, { ...base, conditions: ['E11'] }).eligible).toBe(true);
    expect(check({ conditions: { anyOf: ['E11.*'] } }, { ...base, conditions: ['E12.9', 'E10.9'] }).eligible).toBe(false);
  });

  it('the credential: too old for the study, expired, issued after the proof time', () => {
    const issuedAt = TIME - 400 * DAY;
    expect(check({ credentialMaxAgeDays: 365 }, base, { credential: { issuedAt, expiresAt: TIME + DAY } }).failures).toEqual([
      { criterion: 'credentialMaxAgeDays', message: 'the credential was issued 400 days ago; the study accepts at most 365' },
    ]);
    expect(check({}, base, { credential: { issuedAt, expiresAt: TIME - 35 * DAY } }).failures).toEqual([{ criterion: 'credential', message: 'the credential expired on 2025-11-27' }]);
    // Valid strictly before expiresAt, as in the circuit.
    expect(check({}, base, { credential: { issuedAt, expiresAt: TIME } }).eligible).toBe(false);
    expect(check({}, base, { credential: { issuedAt: TIME + 60, expiresAt: TIME + DAY } }).failures[0]?.criterion).toBe('credential');
    expect(check({ credentialMaxAgeDays: 1 }, base, { credential: { issuedAt: TIME - DAY, expiresAt: TIME + DAY } }).eligible).toBe(true);
  });

  it('every failing criterion at once', () => {
    const r = check({ age: { max: 30 }, sex: ['male'], smoker: ['never'], glucose: { max: 100 }, conditions: { noneOf: ['I10'] } });
    expect(r.eligible).toBe(false);
    expect(r.failures.map((f) => f.criterion)).toEqual(['age', 'sex', 'smoker', 'glucose', 'conditions.noneOf']);
  });

  it('criteria the circuit cannot express are refused, not weakened', () => {
    expect(() => check({ hba1c: { min: 6.45 } })).toThrow(CriteriaError);
  });
});

// ---------------------------------------------------------------------------------------------
// Equivalence with the circuit's constraints.


const FIXED: Criteria[] = [
  { version: 1, age: { min: 40, max: 65 } },
  { version: 1, sex: ['female'], hba1c: { min: 6.5 } },
  { version: 1, age: { min: 18 }, conditions: { anyOf: ['E11.*'], noneOf: ['F17.*', 'F10.*'] } },
  { version: 1, bmi: { min: 25, max: 35 }, glucose: { max: 126 } },
  { version: 1, smoker: ['current'], cholesterol: { min: 200 } },
  { version: 1, phq9: { min: 10 }, conditions: { anyOf: ['F32.*', 'F41.1'] } },
  { version: 1, age: { max: 70 }, credentialMaxAgeDays: 30 },
  { version: 1, conditions: { anyOf: ['I10', 'J45.909', 'E11.9', 'F*'], noneOf: ['F10.20', 'J*', 'K*', 'Z87.891'] } },
];
const PATTERNS = ['E11.*', 'E1*', 'I10', 'J45.*', 'F32.9', 'F17.*', 'F*', 'F10.20', 'E11.9', 'K21.*'];

function randomCriteria(rand: () => number): Criteria {
  const c: Record<string, unknown> = { version: 1 };
  const pick = <T>(list: readonly T[], n: number) => [...list].sort(() => rand() - 0.5).slice(0, n);
  if (rand() < 0.5) {
    const lo = Math.floor(rand() * 70);
    c.age = rand() < 0.3 ? { min: lo } : rand() < 0.5 ? { max: lo + 10 } : { min: lo, max: lo + Math.floor(rand() * 40) };
  }
  if (rand() < 0.3) c.sex = pick(SEXES, 1 + Math.floor(rand() * 2));
  if (rand() < 0.3) c.smoker = pick(SMOKER_STATUSES, 1 + Math.floor(rand() * 3));
  for (const name of MEASURE_NAMES) {
    if (rand() >= 0.3) continue;
    const { decimals } = MEASURES[name];
    const typical = { hba1c: 6.2, glucose: 105, cholesterol: 195, bmi: 27.5, phq9: 13 }[name];
    const at = (f: number) => Math.round(typical * f * 10 ** decimals) / 10 ** decimals;
    const lo = at(0.7 + rand() * 0.4);
    c[name] = rand() < 0.4 ? { min: lo } : rand() < 0.5 ? { max: lo } : { min: lo, max: at(1.1 + rand() * 0.3) };
  }
  if (rand() < 0.6) {
    const conditions: Record<string, string[]> = {};
    if (rand() < 0.6) conditions.anyOf = pick(PATTERNS, 1 + Math.floor(rand() * 4));
    if (rand() < 0.6) conditions.noneOf = pick(PATTERNS, 1 + Math.floor(rand() * 4));
    if (Object.keys(conditions).length > 0) c.conditions = conditions;
  }
  if (rand() < 0.3) c.credentialMaxAgeDays = 1 + Math.floor(rand() * 400);
  return c as Criteria;
}

describe('checkEligibility ⇔ the circuit\'s constraints', () => {
  const patients = synthesizeBundles({ patients: 300, seed: 'zk-eligibility' }).map((b) => deriveAttributes(b.entry.map((e) => e.resource), { now: new Date(TIME * 1000) }));

  it('agrees on 300 synthetic patients × 8 fixed and 60 random criteria × random proof times and credentials, with both outcomes common', () => {
    const rand = prng(6);
    const criteriaSets = [...FIXED, ...Array.from({ length: 60 }, () => randomCriteria(rand))];
    let eligible = 0;
    let checked = 0;
    const perCriteria = criteriaSets.map(() => ({ yes: 0, no: 0 }));
    for (const [ci, criteria] of criteriaSets.entries()) {
      const crit = compileCriteria(criteria).values;
      for (const a of patients) {
        const attrs = encodeAttributes(a);
        const time = TIME + Math.floor((rand() - 0.5) * 40 * 365 * DAY);
        const issuedAt = time - Math.floor((rand() - 0.1) * 500 * DAY);
        const credential = rand() < 0.8 ? { issuedAt, expiresAt: issuedAt + Math.floor(rand() * 600 * DAY) + 1 } : undefined;
        const result = checkEligibility(a, criteria, { time, ...(credential ? { credential } : {}) });
        const expected = circuitAccepts(attrs, crit, time, credential);
        if (result.eligible !== expected) throw new Error(`disagree: ${JSON.stringify({ a, criteria, time, credential, result })}`);
        expect(result.failures.length === 0).toBe(result.eligible);
        checked++;
        if (expected) {
          eligible++;
          perCriteria[ci]!.yes++;
        } else perCriteria[ci]!.no++;
      }
    }
    expect(checked).toBe(68 * 300);
    // Neither outcome is rare, and every fixed criterion both admits and refuses someone.
    expect(eligible).toBeGreaterThan(1000);
    expect(eligible / checked).toBeLessThan(0.9);
    for (const [ci, counts] of perCriteria.slice(0, FIXED.length).entries()) {
      expect(counts.yes, `criteria ${ci} admits someone`).toBeGreaterThan(0);
      expect(counts.no, `criteria ${ci} refuses someone`).toBeGreaterThan(0);
    }
  });

  it('agrees at the edges: ages a second either side of each whole year, measures at their bounds', () => {
    const a = { ...base, birthDate: '1980-02-29' };
    const birth = Date.UTC(1980, 1, 29) / 1000;
    for (let years = 17; years <= 19; years++) {
      for (const dt of [-1, 0, 1]) {
        const time = birth + years * YEAR_SECONDS + dt;
        for (const criteria of [{ version: 1, age: { min: 18 } }, { version: 1, age: { max: 18 } }, { version: 1, age: { min: 18, max: 18 } }] as Criteria[]) {
          expect(checkEligibility(a, criteria, { time }).eligible).toBe(circuitAccepts(encodeAttributes(a), compileCriteria(criteria).values, time));
        }
      }
    }
    for (const v of [7.3, 7.4, 7.5]) {
      const m = { ...base, measures: { hba1c: v } };
      for (const criteria of [{ version: 1, hba1c: { min: 7.4 } }, { version: 1, hba1c: { max: 7.4 } }] as Criteria[]) {
        expect(checkEligibility(m, criteria, { time: TIME }).eligible).toBe(circuitAccepts(encodeAttributes(m), compileCriteria(criteria).values, TIME));
      }
    }
  });
});

describe('checkEligibility ⇔ a witness of the real circuit', () => {
  it('12 signed credentials (eligible and not, by each kind of criterion and by the credential\'s times): a witness exists exactly when eligible', async () => {
    const { wasm } = nodeArtifacts();
    const issuer = issuerKeyFromSecret(new TextEncoder().encode('eligibility-witness-test-issuer'));
    const secret = identitySecretFromSeed(new TextEncoder().encode('eligibility-witness-test-patient'));
    const patients = synthesizeBundles({ patients: 40, seed: 'zk-witness' }).map((b) => deriveAttributes(b.entry.map((e) => e.resource), { now: new Date(TIME * 1000) }));
    const fresh = { issuedAt: TIME - 10 * DAY, expiresAt: TIME + 355 * DAY };
    // Eligible and ineligible patients for several fixed criteria, then the credential's own times.
    const cases: Array<{ a: Attributes; criteria: Criteria; times: { issuedAt: number; expiresAt: number } }> = [];
    for (const criteria of [FIXED[0]!, FIXED[1]!, FIXED[2]!, FIXED[3]!, FIXED[5]!]) {
      const yes = patients.find((a) => checkEligibility(a, criteria, { time: TIME, credential: fresh }).eligible);
      const no = patients.find((a) => !checkEligibility(a, criteria, { time: TIME, credential: fresh }).eligible);
      if (yes) cases.push({ a: yes, criteria, times: fresh });
      if (no) cases.push({ a: no, criteria, times: fresh });
    }
    const open: Criteria = { version: 1, credentialMaxAgeDays: 30 };
    cases.push({ a: patients[0]!, criteria: open, times: { issuedAt: TIME - 40 * DAY, expiresAt: TIME + DAY } });
    cases.push({ a: patients[0]!, criteria: open, times: { issuedAt: TIME - 20 * DAY, expiresAt: TIME } });
    expect(cases.length).toBe(12);

    const outcomes = { eligible: 0, refused: 0 };
    for (const { a, criteria, times } of cases) {
      const credential = signCredential(issuer, { attributes: a, identityCommitment: identityCommitment(secret), ...times });
      const { signals } = eligibilityInput({ credential, secret, criteria, studyId: 1n, recipient: '0x00000000000000000000000000000000000A11cE', issuerLeaves: [issuerLeaf(issuer.publicKey)], time: TIME });
      const local = checkEligibility(a, criteria, { time: TIME, credential: times });
      const witness = await snarkjs.wtns.calculate(signals, wasm, { type: 'mem', data: new Uint8Array(0) }).then(() => true, () => false);
      expect(witness, JSON.stringify({ criteria, failures: local.failures })).toBe(local.eligible);
      outcomes[witness ? 'eligible' : 'refused']++;
    }
    expect(outcomes.eligible).toBeGreaterThanOrEqual(4);
    expect(outcomes.refused).toBeGreaterThanOrEqual(6);
  });
});
