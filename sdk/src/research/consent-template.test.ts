// The consent text written from a study's terms: every core element and required statement of a
// HIPAA research authorization (45 CFR 164.508(c)) is there, with the study's own terms; the same
// terms give the same text; terms that cannot make an authorization are refused.
import { describe, expect, it } from 'vitest';
import { categoryMask } from '../records/categories.ts';
import { categoriesOfMask, consentAuthorizationText, type ConsentTerms } from './consent-template.ts';

const terms: ConsentTerms = {
  title: 'Glucose control in adults with type 2 diabetes',
  purpose: 'To describe how HbA1c changes over time with the medications people take.',
  researcher: 'Dr. A. Researcher, Example University',
  irb: 'Example IRB',
  categories: BigInt(categoryMask(['labs', 'conditions', 'medications'])),
  consentDuration: 365n * 86_400n,
  minCohort: 3,
  paymentPerPurchase: '5 tUSD',
};

describe('consentAuthorizationText', () => {
  it('has the core elements and required statements of a HIPAA authorization, with the study\'s terms', () => {
    const text = consentAuthorizationText(terms);
    const section = (n: number) => text.split(/\n(?=\d+\. )/).find((s) => s.startsWith(`${n}. `)) ?? '';
    // (c)(1)(i) the information, specifically: the study's categories and nothing else.
    expect(section(1)).toContain('laboratory results');
    expect(section(1)).toContain('diagnoses and health problems');
    expect(section(1)).toContain('medications prescribed');
    expect(section(1)).not.toContain('mental health');
    expect(section(1)).toContain('Safe Harbor');
    // (ii) who discloses, (iii) who receives, (iv) the purpose, (v) the expiry.
    expect(section(2)).toContain('at least 3 participants');
    expect(section(3)).toContain('Dr. A. Researcher, Example University, and any other researcher who purchases');
    expect(section(4)).toContain(terms.purpose);
    expect(section(5)).toContain('expires one year (365 days) after the day you enroll, or earlier on the day you revoke it');
    // (c)(2)(i) revocation and how, its exception; (ii) no conditioning of treatment; (iii) redisclosure.
    expect(section(6)).toMatch(/revoke this authorization at any time.*"Revoke consent".*does not undo what was disclosed/s);
    expect(section(7)).toContain('will not be affected by whether you sign');
    expect(section(8)).toContain('may be redisclosed by the recipient and may then no longer be protected by the HIPAA Privacy Rule');
    // Remuneration, then (vi) signature and date.
    expect(section(9)).toContain('You will be paid 5 tUSD each time your extract is part of a purchase');
    expect(section(10)).toMatch(/Signature of participant or personal representative: _+\n\nDate: _+/);
    expect(section(10)).toContain('authority to act for the participant');
    expect(consentAuthorizationText(terms)).toBe(text);
  });

  it('names sensitive categories, states an unpaid study, and counts days', () => {
    const text = consentAuthorizationText({ ...terms, categories: BigInt(categoryMask(['mental-health', 'labs'])), paymentPerPurchase: null, consentDuration: 90n * 86_400n });
    expect(text).toContain('It includes mental health diagnoses, assessments and treatment. These records are disclosed only because you authorize it here.');
    expect(text).toContain('You will not be paid for taking part.');
    expect(text).toContain('expires 90 days after the day you enroll');
  });

  it('refuses terms that cannot make an authorization', () => {
    expect(() => consentAuthorizationText({ ...terms, categories: 0n })).toThrow(expect.objectContaining({ code: 'CONSENT_TERMS_INVALID' }));
    expect(() => consentAuthorizationText({ ...terms, consentDuration: 3600n })).toThrow(/at least one day/);
    expect(() => consentAuthorizationText({ ...terms, researcher: ' ' })).toThrow(/researcher/);
  });

  it('reads a category bitmask in category order', () => {
    expect(categoriesOfMask(BigInt(categoryMask(['medications', 'labs'])))).toEqual(['labs', 'medications']);
  });
});
