import { poseidon16 } from 'poseidon-lite/poseidon16';
import { poseidon2 } from 'poseidon-lite/poseidon2';
import { describe, expect, it } from 'vitest';
import {
  ageBoundsSeconds,
  ageSeconds,
  attributesHash,
  AttributesError,
  birthSeconds,
  compileCriteria,
  CRIT,
  CriteriaError,
  encodeAttributes,
  encodeIcd10,
  matchesPattern,
  parseCriteria,
  patternRange,
  SECONDS_1900_TO_1970,
  UNBOUNDED,
  YEAR_SECONDS,
} from './layout.ts';
import type { Attributes, Criteria } from './types.ts';

const attributes: Attributes = {
  birthDate: '1970-01-02',
  sex: 'female',
  smoker: 'former',
  conditions: ['E11.9', 'I10'],
  measures: { hba1c: 7.2, bmi: 31.45, phq9: 0 },
};

describe('encodeIcd10', () => {
  it('reads the code as 7 base-37 digits (pad 0, 0-9 → 1-10, A-Z → 11-36)', () => {
    const d = (c: string) => (c <= '9' ? c.charCodeAt(0) - 47 : c.charCodeAt(0) - 54);
    const expected = (code: string) => [...code.padEnd(7, '_')].reduce((v, c) => v * 37n + BigInt(c === '_' ? 0 : d(c)), 0n);
    expect(encodeIcd10('E11.9')).toBe(expected('E119'));
    expect(encodeIcd10('E11.9')).toBe(15n * 37n ** 6n + 2n * 37n ** 5n + 2n * 37n ** 4n + 10n * 37n ** 3n);
    expect(encodeIcd10('F17.210')).toBe(expected('F17210'));
    expect(encodeIcd10('e11.9')).toBe(encodeIcd10('E119'));
    expect(encodeIcd10('ZZZZZZZ')).toBe(37n ** 7n - 1n);
    expect(37n ** 7n - 1n < 1n << 37n).toBe(true);
  });

  it('refuses what is not a code', () => {
    for (const bad of ['', '11.9', 'E11.9.1', 'E11-9', 'E1191234', 'É11']) {
      expect(() => encodeIcd10(bad), bad).toThrow(AttributesError);
    }
  });

  it('orders codes so a prefix covers one contiguous range', () => {
    const codes = ['E1', 'E10', 'E11', 'E11.0', 'E11.9', 'E119ZZ', 'E11.A', 'E11.Z', 'E12', 'E2', 'F0'];
    const encoded = codes.map(encodeIcd10);
    expect([...encoded].sort((a, b) => (a < b ? -1 : 1))).toEqual(encoded);
  });
});

describe('patternRange / matchesPattern', () => {
  it('covers the codes with the prefix and no others', () => {
    expect(patternRange('E11.*')).toEqual([encodeIcd10('E11'), encodeIcd10('E11ZZZZ')]);
    expect(patternRange('E11*')).toEqual(patternRange('E11.*'));
    expect(patternRange('E11.9')).toEqual([encodeIcd10('E11.9'), encodeIcd10('E11.9')]);
    for (const yes of ['E11', 'E11.0', 'E11.9', 'E11.65', 'E11.ZZZZ']) expect(matchesPattern(yes, 'E11.*'), yes).toBe(true);
    for (const no of ['E10.9', 'E12', 'E1', 'F11.9']) expect(matchesPattern(no, 'E11.*'), no).toBe(false);
    expect(matchesPattern('E10.1', 'E1*')).toBe(true);
    expect(matchesPattern('E2', 'E1*')).toBe(false);
    expect(matchesPattern('E11.9', 'E11.9')).toBe(true);
    expect(matchesPattern('E11.90', 'E11.9')).toBe(false);
  });
});

describe('encodeAttributes', () => {
  it('lays the attributes out in the circuit order', () => {
    const a = encodeAttributes(attributes);
    expect(a).toHaveLength(16);
    expect(a[0]).toBe(BigInt(SECONDS_1900_TO_1970 + 86_400));
    expect(a[1]).toBe(2n); // female
    expect(a[2]).toBe(2n); // former
    // hba1c 7.2 → 72 + 1; glucose, cholesterol absent → 0; bmi 31.45 → round(314.5) + 1; phq9 0 → 1.
    expect(a.slice(3, 8)).toEqual([73n, 0n, 0n, 316n, 1n]);
    expect(a.slice(8, 10)).toEqual([encodeIcd10('E11.9'), encodeIcd10('I10')]);
    expect(a.slice(10)).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
    expect(attributesHash(a)).toBe(poseidon16(a));
  });

  it('counts birth dates from 1900-01-01 and refuses earlier ones', () => {
    expect(birthSeconds('1900-01-01')).toBe(0n);
    expect(birthSeconds('1970-01-01')).toBe(BigInt(SECONDS_1900_TO_1970));
    expect(() => birthSeconds('1899-12-31')).toThrow(/before 1900/);
    expect(() => birthSeconds('2001-02-29')).toThrow(/not a calendar date/);
  });

  it('refuses what a credential cannot carry, in words', () => {
    const bad: Array<[Partial<Attributes>, RegExp]> = [
      [{ conditions: Array.from({ length: 9 }, () => 'E11.9') }, /at most 8 conditions/],
      [{ conditions: ['not-a-code'] }, /not an ICD-10-CM code/],
      [{ measures: { hba1c: -1 } }, /HbA1c -1 is outside 0 to 30/],
      [{ measures: { glucose: Number.NaN } }, /measures\.glucose/],
      [{ measures: { bmi: 250 } }, /BMI 250 is outside 0 to 200/],
      [{ sex: 'x' as never }, /sex/],
    ];
    for (const [patch, message] of bad) {
      const err = (() => {
        try {
          encodeAttributes({ ...attributes, ...patch });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(AttributesError);
      expect((err as AttributesError).code).toBe('ATTRIBUTES_INVALID');
      expect((err as Error).message).toMatch(message);
    }
  });
});

describe('ages', () => {
  it('computes age in seconds as the circuit does', () => {
    const time = 1_767_225_600; // 2026-01-01
    expect(ageSeconds('1970-01-01', time)).toBe(BigInt(time));
    expect(ageSeconds('2026-01-02', time)).toBe(-86_400n);
  });

  it('turns whole-year bounds into seconds', () => {
    const Y = BigInt(YEAR_SECONDS);
    expect(ageBoundsSeconds()).toEqual([0n, UNBOUNDED]);
    expect(ageBoundsSeconds({ min: 18, max: 65 })).toEqual([18n * Y, 66n * Y - 1n]);
    expect(ageBoundsSeconds({ max: 0 })).toEqual([0n, Y - 1n]);
    expect(() => ageBoundsSeconds({ min: 17.5 })).toThrow(CriteriaError);
  });
});

describe('criteria', () => {
  it('compiles the defaults to "anything goes"', () => {
    const { values, criteriaHash } = compileCriteria({ version: 1 });
    expect(values).toHaveLength(32);
    expect(values.slice(0, 4)).toEqual([0n, UNBOUNDED, 15n, 15n]);
    for (let i = 0; i < 5; i++) expect(values.slice(4 + 2 * i, 6 + 2 * i)).toEqual([0n, UNBOUNDED]);
    expect(values.slice(14, 22)).toEqual([1n, 0n, 1n, 0n, 1n, 0n, 1n, 0n]);
    expect(values[22]).toBe(0n);
    expect(values.slice(23, 31)).toEqual([1n, 0n, 1n, 0n, 1n, 0n, 1n, 0n]);
    expect(values[31]).toBe(UNBOUNDED);
    expect(criteriaHash).toBe(poseidon2([poseidon16(values.slice(0, 16)), poseidon16(values.slice(16))]));
  });

  it('compiles every criterion to its slot', () => {
    const c: Criteria = {
      version: 1,
      age: { min: 40, max: 75 },
      sex: ['male', 'other'],
      smoker: ['never'],
      hba1c: { min: 6.5, max: 10 },
      bmi: { max: 40 },
      conditions: { anyOf: ['E11.*', 'E13.9'], noneOf: ['F*'] },
      credentialMaxAgeDays: 90,
    };
    const { values } = compileCriteria(c);
    expect([values[CRIT.ageMin], values[CRIT.ageMax]]).toEqual(ageBoundsSeconds({ min: 40, max: 75 }));
    expect(values[CRIT.sexMask]).toBe(0b1010n);
    expect(values[CRIT.smokerMask]).toBe(0b0010n);
    expect(values.slice(4, 6)).toEqual([66n, 101n]); // hba1c
    expect(values.slice(6, 8)).toEqual([0n, UNBOUNDED]); // glucose absent
    expect(values.slice(10, 12)).toEqual([1n, 401n]); // bmi: max only still requires a measurement
    expect(values.slice(14, 18)).toEqual([...patternRange('E11.*'), ...patternRange('E13.9')]);
    expect(values.slice(18, 22)).toEqual([1n, 0n, 1n, 0n]);
    expect(values[CRIT.anyOfRequired]).toBe(1n);
    expect(values.slice(23, 25)).toEqual([...patternRange('F*')]);
    expect(values[CRIT.credentialMaxAge]).toBe(90n * 86_400n);
    for (const v of values) expect(v >= 0n && v <= UNBOUNDED).toBe(true);
    expect(compileCriteria(c).criteriaHash).not.toBe(compileCriteria({ ...c, smoker: ['former'] }).criteriaHash);
  });

  it('refuses what the circuit cannot express instead of weakening it', () => {
    expect(() => compileCriteria({ version: 1, age: { min: 18.5 } })).toThrow(/whole years/);
    expect(() => compileCriteria({ version: 1, hba1c: { min: 6.55 } })).toThrow(/more than 1 decimal/);
    expect(() => compileCriteria({ version: 1, glucose: { max: 99.5 } })).toThrow(/more than 0 decimals/);
    expect(() => compileCriteria({ version: 1, conditions: { anyOf: ['A', 'B', 'C', 'D', 'E'] } })).toThrow(CriteriaError);
  });

  it('names each problem with its path', () => {
    const err = (() => {
      try {
        parseCriteria({ version: 1, age: { min: 70, max: 20 }, conditions: { anyOf: ['e11'] }, weight: 3 });
      } catch (e) {
        return e as CriteriaError;
      }
    })();
    expect(err).toBeInstanceOf(CriteriaError);
    expect(err!.code).toBe('CRITERIA_INVALID');
    expect(err!.message).toMatch(/age: min must not exceed max/);
    expect(err!.message).toMatch(/conditions\.anyOf\.0: must be an ICD-10-CM code/);
    expect(err!.message).toMatch(/weight/);
  });
});
