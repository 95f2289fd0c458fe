// Enrollment and grant receipts: each status of each kind validates with the repository's FHIR R4
// validator (decision 006), carries the chain facts it was built from where R4 puts them, uses
// codes R4 defines, names parties by address only, and refuses facts a receipt cannot be built from.
// All addresses and hashes are synthetic.
import { describe, expect, it } from 'vitest';
import { categoryMask } from '../records/categories.ts';
import { validateFhirResource } from '../records/fhir.ts';
import { EXTENSIONS, SYSTEMS } from './common.ts';
import { enrollmentConsent, grantConsent, type ConsentResource, type EnrollmentFacts, type GrantFacts } from './consent.ts';
import { isR4Code } from './testing/r4-codes.ts';

const hex = (byte: string, bytes: number) => `0x${byte.repeat(bytes)}`;
const DAY = 86_400;
const T0 = 1_800_000_000; // 2027-01-15T08:00:00Z

const enrollment: EnrollmentFacts = {
  chainId: 31337,
  studyId: 7n,
  participant: '0x5A5a5A5A5a5A5A5A5A5a5a5A5a5a5A5a5A5A5a5A', // a fresh per-study address (synthetic)
  consentHash: hex('c1', 32),
  protocolHash: hex('b2', 32),
  categories: BigInt(categoryMask(['labs', 'conditions', 'medications'])),
  enrolledAt: T0,
  expiresAt: T0 + 365 * DAY,
  transactionHash: hex('e3', 32),
  irbApproval: { irb: hex('1b', 20), transactionHash: hex('a4', 32), decidedAt: T0 - 30 * DAY },
  researcher: hex('9e', 20),
};

const grant: GrantFacts = {
  chainId: 31337,
  patient: hex('a1', 20),
  grantee: hex('d1', 20),
  categories: categoryMask(['labs', 'allergies']),
  purpose: 0,
  requestId: 12n,
  grantedAt: T0,
  expiresAt: T0 + 7 * DAY,
  transactionHash: hex('f5', 32),
};

const chainTx = (c: ConsentResource, event: string) =>
  c.extension.find((x) => x.url === EXTENSIONS.chainTransaction && x.extension?.some((s) => s.url === 'event' && s.valueCode === event));
const sub = (ext: ReturnType<typeof chainTx>, url: string) => ext?.extension?.find((s) => s.url === url);

/** Every coding of the receipt whose system is an HL7 one is a code R4 defines. */
function expectR4Codes(c: ConsentResource) {
  const codings = [...c.scope.coding, ...c.category.flatMap((x) => x.coding), ...c.policyRule.coding, ...c.provision.purpose, ...c.provision.action.flatMap((x) => x.coding), ...(c.provision.actor ?? []).flatMap((a) => a.role.coding)];
  for (const coding of codings.filter((x) => x.system.startsWith('http://terminology.hl7.org/'))) expect(isR4Code(coding.system, coding.code), `${coding.system}#${coding.code}`).toBe(true);
  // Required bindings the validator does not check.
  expect(isR4Code('http://hl7.org/fhir/consent-state-codes', c.status)).toBe(true);
  expect(isR4Code('http://hl7.org/fhir/consent-provision-type', c.provision.type)).toBe(true);
}

describe('enrollmentConsent', () => {
  it('is an active R4 research Consent with the enrollment\'s chain facts', () => {
    const c = enrollmentConsent(enrollment, { asOf: T0 + DAY });
    expect(validateFhirResource(c)).toEqual([]);
    expectR4Codes(c);
    expect(c.status).toBe('active');
    expect(c.scope.coding).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research', display: 'Research' }]);
    expect(c.category[0]!.coding[0]).toMatchObject({ system: 'http://loinc.org', code: '57016-8' });
    // The participant by the per-study address only: an identifier, no reference to a resource, no name.
    expect(c.patient).toEqual({ identifier: { system: 'urn:consentry:study-participant', value: '0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a' } });
    expect(c.performer).toEqual([c.patient]);
    expect(c.dateTime).toBe('2027-01-15T08:00:00.000Z');
    expect(c.provision.period).toEqual({ start: '2027-01-15T08:00:00.000Z', end: '2028-01-15T08:00:00.000Z' });
    expect(c.provision.type).toBe('permit');
    expect(c.provision.purpose).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH', display: 'healthcare research' }]);
    expect(c.provision.class.map((x) => [x.system, x.code])).toEqual([
      [SYSTEMS.category, 'labs'],
      [SYSTEMS.category, 'medications'],
      [SYSTEMS.category, 'conditions'],
    ]);
    expect(c.provision.actor).toEqual([
      { role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] }, reference: { identifier: { system: SYSTEMS.organization, value: hex('9e', 20) } } },
    ]);
    // The consent text by its SHA-256, in a URI: Attachment.hash (base64 SHA-1 in R4) is not used.
    expect(c.sourceAttachment).toMatchObject({ url: `urn:consentry:sha256:${'c1'.repeat(32)}`, contentType: 'text/plain; charset=utf-8' });
    expect(c.sourceAttachment).not.toHaveProperty('hash');
    // ppc-1: a policy or a policyRule; the IRB's approval of the protocol, and HIPAA research authorization.
    expect(c.policy).toEqual([{ authority: `urn:consentry:organization:${hex('1b', 20)}`, uri: `urn:consentry:sha256:${'b2'.repeat(32)}` }]);
    expect(c.policyRule.coding[0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/consentpolicycodes', code: 'hipaa-research' });
    expect(c.identifier).toEqual([{ system: SYSTEMS.enrollment, value: `eip155:31337:${hex('e3', 32)}` }]);
    expect(c.extension.find((x) => x.url === EXTENSIONS.study)?.valueIdentifier).toEqual({ system: SYSTEMS.study, value: '7' });
    const enrolled = chainTx(c, 'enrollment');
    expect(sub(enrolled, 'chain')?.valueString).toBe('eip155:31337');
    expect(sub(enrolled, 'transaction')?.valueString).toBe(hex('e3', 32));
    expect(sub(enrolled, 'time')?.valueDateTime).toBe(c.dateTime);
    expect(sub(chainTx(c, 'irb-approval'), 'transaction')?.valueString).toBe(hex('a4', 32));
    expect(chainTx(c, 'revocation')).toBeUndefined();
  });

  it('is inactive once revoked (with the revocation\'s transaction) and once expired; the period still ends at the expiry', () => {
    const revoked = enrollmentConsent({ ...enrollment, revoked: { at: T0 + 10 * DAY, transactionHash: hex('7e', 32) } }, { asOf: T0 + 11 * DAY });
    expect(validateFhirResource(revoked)).toEqual([]);
    expectR4Codes(revoked);
    expect(revoked.status).toBe('inactive');
    expect(revoked.provision.period.end).toBe('2028-01-15T08:00:00.000Z');
    expect(sub(chainTx(revoked, 'revocation'), 'transaction')?.valueString).toBe(hex('7e', 32));
    expect(sub(chainTx(revoked, 'revocation'), 'time')?.valueDateTime).toBe('2027-01-25T08:00:00.000Z');
    // Judged before the revocation, the same facts say active.
    expect(enrollmentConsent({ ...enrollment, revoked: { at: T0 + 10 * DAY } }, { asOf: T0 + 9 * DAY }).status).toBe('active');

    const expired = enrollmentConsent(enrollment, { asOf: T0 + 365 * DAY });
    expect(validateFhirResource(expired)).toEqual([]);
    expect(expired.status).toBe('inactive');
    expect(enrollmentConsent(enrollment, { asOf: T0 + 365 * DAY - 1 }).status).toBe('active');
  });

  it('takes the facts as the index serves them (decimal strings), leaves out an unknown researcher, and holds no name', () => {
    const c = enrollmentConsent(
      { ...enrollment, studyId: '7', categories: String(categoryMask(['genomics'])), enrolledAt: String(T0), expiresAt: String(T0 + 90 * DAY), researcher: undefined },
      { asOf: T0 },
    );
    expect(validateFhirResource(c)).toEqual([]);
    expect(c.provision).not.toHaveProperty('actor');
    expect(c.provision.class.map((x) => x.code)).toEqual(['genomics']);
    expect(JSON.stringify(c)).not.toMatch(/"(name|given|family|birthDate|address)"/);
  });

  it('refuses facts a receipt cannot be built from', () => {
    const bad = (over: Partial<EnrollmentFacts>) => () => enrollmentConsent({ ...enrollment, ...over }, { asOf: T0 });
    expect(bad({ participant: '0x1234' })).toThrow(expect.objectContaining({ code: 'RECEIPT_INPUT_INVALID', message: expect.stringMatching(/participant/) }));
    expect(bad({ consentHash: '0xabc' })).toThrow(/consentHash/);
    expect(bad({ expiresAt: T0 })).toThrow(/expires before it starts/);
    expect(bad({ categories: 0n })).toThrow(/no category/);
    expect(bad({ categories: 1n << 40n })).toThrow(/bits no category has/);
    expect(bad({ enrolledAt: -1 })).toThrow(/enrolledAt/);
  });
});

describe('grantConsent', () => {
  it('is an active R4 privacy Consent: the organisation may access the approved categories for the purpose until expiry', () => {
    const c = grantConsent(grant, { asOf: T0 + 60 });
    expect(validateFhirResource(c)).toEqual([]);
    expectR4Codes(c);
    expect(c.status).toBe('active');
    expect(c.scope.coding[0]).toMatchObject({ code: 'patient-privacy' });
    expect(c.category[0]!.coding[0]).toMatchObject({ system: 'http://loinc.org', code: '59284-0' });
    expect(c.patient).toEqual({ identifier: { system: SYSTEMS.patient, value: hex('a1', 20) } });
    expect(c.policyRule.coding[0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' });
    expect(c).not.toHaveProperty('sourceAttachment');
    expect(c.provision.actor).toEqual([
      { role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] }, reference: { identifier: { system: 'urn:consentry:organization', value: hex('d1', 20) } } },
    ]);
    expect(c.provision.period).toEqual({ start: '2027-01-15T08:00:00.000Z', end: '2027-01-22T08:00:00.000Z' });
    expect(c.provision.purpose).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT', display: 'treatment' }]);
    expect(c.provision.class.map((x) => x.code)).toEqual(['labs', 'allergies']);
    expect(c.identifier).toEqual([{ system: SYSTEMS.accessRequest, value: 'eip155:31337:12' }]);
    expect(sub(chainTx(c, 'grant'), 'transaction')?.valueString).toBe(hex('f5', 32));
  });

  it('is inactive once revoked or expired, and writes each purpose with its HL7 code', () => {
    const revoked = grantConsent({ ...grant, revoked: { at: T0 + DAY, transactionHash: hex('7e', 32) } }, { asOf: T0 + DAY });
    expect(validateFhirResource(revoked)).toEqual([]);
    expect(revoked.status).toBe('inactive');
    expect(revoked.provision.period.end).toBe('2027-01-22T08:00:00.000Z');
    expect(sub(chainTx(revoked, 'revocation'), 'transaction')?.valueString).toBe(hex('7e', 32));

    const expired = grantConsent({ ...grant, transactionHash: undefined }, { asOf: T0 + 7 * DAY });
    expect(validateFhirResource(expired)).toEqual([]);
    expect(expired.status).toBe('inactive');
    expect(expired.extension).toEqual([]);

    const codes = [0, 1, 2, 3, 4, 5, 6, 7].map((purpose) => grantConsent({ ...grant, purpose }, { asOf: T0 }).provision.purpose[0]!);
    expect(codes.map((c) => c.code)).toEqual(['TREAT', 'ETREAT', 'HPAYMT', 'HOPERAT', 'HRESCH', 'PUBHLTH', 'PATRQT', 'HLEGAL']);
    for (const c of codes) expect(isR4Code(c.system, c.code)).toBe(true);
  });

  it('refuses facts a receipt cannot be built from', () => {
    expect(() => grantConsent({ ...grant, purpose: 8 }, { asOf: T0 })).toThrow(/purpose/);
    expect(() => grantConsent({ ...grant, grantee: 'clinic' }, { asOf: T0 })).toThrow(/grantee/);
    expect(() => grantConsent({ ...grant, expiresAt: T0 - 1 }, { asOf: T0 })).toThrow(/expires before it starts/);
    expect(() => grantConsent({ ...grant, categories: 0 }, { asOf: T0 })).toThrow(/no category/);
  });
});

describe('the validator the receipts pass', () => {
  it('does report what R4 requires of a Consent: category, and a policy or policyRule (ppc-1)', () => {
    const { category: _category, ...noCategory } = grantConsent(grant, { asOf: T0 });
    expect(validateFhirResource(noCategory)).toEqual(['Consent.category: Missing required property']);
    const { policyRule: _rule, ...noPolicy } = grantConsent(grant, { asOf: T0 });
    expect(validateFhirResource(noPolicy)).toEqual(['Consent: Constraint ppc-1 not met: Either a Policy or PolicyRule']);
  });
});

describe('receipts in the browser', () => {
  it('bundle for the browser (no Node built-ins)', async () => {
    const { build } = await import('esbuild');
    const dir = new URL('.', import.meta.url).pathname;
    const result = await build({ entryPoints: [`${dir}index.ts`], bundle: true, platform: 'browser', format: 'esm', write: false, outdir: '/tmp/consentry-receipts-bundle', logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles.map((f) => f.text).join('')).not.toMatch(/from ["']node:/);
  });
});
