import { describe, expect, it } from 'vitest';
import { ageInYears, describeAttributes, enrolBlocker, isAlreadyEnrolledError, type EnrolState } from './eligibility.ts';

const at = Date.parse('2026-12-05T12:00:00Z') / 1000;

describe('the eligibility page in words', () => {
  it("says a credential's attributes, with the age counted in mean years as the circuit does", () => {
    expect(ageInYears('1957-06-25', at)).toBe(69);
    expect(ageInYears('2008-12-06', at)).toBe(17); // the day before an 18th birthday
    expect(
      describeAttributes({ birthDate: '1957-06-25', sex: 'female', smoker: 'unknown', conditions: ['I10', 'E11.9'], measures: { hba1c: 6.9, bmi: 30.2, phq9: 4 } }, at),
    ).toEqual([
      { label: 'Born', value: '1957-06-25 (69 years old)' },
      { label: 'Sex', value: 'female' },
      { label: 'Smoking', value: 'not recorded' },
      { label: 'Conditions', value: 'I10, E11.9' },
      { label: 'Measurements', value: 'HbA1c 6.9 %, BMI 30.2 kg/m2, PHQ-9 depression score 4' },
    ]);
    expect(describeAttributes({ birthDate: '2000-01-01', sex: 'male', smoker: 'never', conditions: [], measures: {} }, at).slice(2)).toEqual([
      { label: 'Smoking', value: 'never' },
      { label: 'Conditions', value: 'none recorded' },
      { label: 'Measurements', value: 'none recorded' },
    ]);
  });

  it('gives the first reason the patient cannot prove and enrol yet, and none when all is ready', () => {
    const ready: EnrolState = { studyProblem: null, artifactsProblem: null, enrolled: false, hasCredential: true, credentialExpired: false, checked: { eligible: true }, consent: true };
    expect(enrolBlocker(ready)).toBeNull();
    expect(enrolBlocker({ ...ready, consent: false })).toBe('Give your consent first');
    expect(enrolBlocker({ ...ready, checked: { eligible: false } })).toBe("You do not meet this study's criteria (see above), so no proof can be made");
    expect(enrolBlocker({ ...ready, checked: null })).toBe('Check your eligibility first');
    expect(enrolBlocker({ ...ready, credentialExpired: true })).toBe('Your credential has expired: get a new one');
    expect(enrolBlocker({ ...ready, hasCredential: false, checked: null })).toBe('Get a credential first');
    expect(enrolBlocker({ ...ready, artifactsProblem: 'The proving files are not built on this server: run npm run circuits:setup' })).toBe(
      'The proving files are not built on this server: run npm run circuits:setup',
    );
    expect(enrolBlocker({ ...ready, enrolled: true })).toBe('You are already enrolled in this study');
    expect(enrolBlocker({ ...ready, enrolled: undefined })).toBe('Checking whether you are enrolled already…');
    expect(enrolBlocker({ ...ready, enrolled: true, studyProblem: 'Its description cannot be used' })).toBe('Its description cannot be used');
  });

  it("reads a used nullifier or an enrolled address as 'already enrolled'", () => {
    expect(isAlreadyEnrolledError('EligibilityVerifier__NullifierUsed')).toBe(true);
    expect(isAlreadyEnrolledError('StudyRegistry__AlreadyEnrolled')).toBe(true);
    expect(isAlreadyEnrolledError('EligibilityVerifier__InvalidProof')).toBe(false);
    expect(isAlreadyEnrolledError(undefined)).toBe(false);
  });
});
