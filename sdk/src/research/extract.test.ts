import { describe, expect, it } from 'vitest';
import { categorize, CATEGORIES, categoryMask, type Category } from '../records/categories.ts';
import type { FhirResource } from '../records/fhir-types.ts';
import { validateFhirResource } from '../records/fhir.ts';
import { synthesizeBundles } from '../synth/generate.ts';
import { buildExtract, freeTextKind, WITHHELD_REFERENCE_DISPLAY, type DeidentifiedExtract } from './extract.ts';
import { yearImpliesAgeOver89, RESTRICTED_ZIP3, SAFE_HARBOR_IDENTIFIERS, safeHarborZip, SafeHarborIdentifier } from './safe-harbor.ts';

const ALL = BigInt(categoryMask([...CATEGORIES]));
const NOW = new Date('2026-06-01T00:00:00Z');
const mask = (...c: Category[]) => BigInt(categoryMask(c));

/** The extract serialized, with its pseudonyms (32 hex digits) masked: what is left must hold nothing planted. */
function scanText(extract: DeidentifiedExtract): string {
  return JSON.stringify(extract.resources).replace(/[0-9a-f]{32}/g, '<pseudonym>');
}

/** Every `reference` in the extract, with where it is. */
function referencesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => referencesIn(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else referencesIn(v, out);
    }
  }
  return out;
}

function expectResolves(extract: DeidentifiedExtract): number {
  const ids = new Set(extract.resources.map((r) => `${r.resourceType}/${r.id}`));
  const refs = referencesIn(extract.resources);
  for (const ref of refs) expect(ids, `reference ${ref}`).toContain(ref);
  return refs.length;
}

function expectValid(extract: DeidentifiedExtract): void {
  for (const r of extract.resources) expect(validateFhirResource(r), JSON.stringify(r)).toEqual([]);
}

/** A patient carrying every kind of identifier Safe Harbor names, planted in every place FHIR puts one. */
function plantedPatient(): { resources: FhirResource[]; planted: string[] } {
  const planted = [
    // (A) names: the patient's, a relative's, a practitioner's in a reference display
    'Plantedfamily', 'Plantedgiven', 'Plantedrelative', 'Dr. Plantedpractitioner', 'Plantedorg Clinic',
    // (B) geography
    '1 Planted Street', 'Plantedville', 'Plantedcounty', '03601', '02139-4307', '036011',
    // (C) dates
    '1931-04-05', '04-05', '1931', '1935', '2024-02-03', '2024-02-03T10:11:12+01:00', '2023-11-12T08:09:10Z', '2022-07-08', '2021-09-10T11:12:13.456Z', '08:30:00',
    // (D)(E)(F)
    '+1-617-555-0101', '617-555-0102', 'planted.patient@example.org', 'relative.planted@example.org',
    // (G)-(K) identifiers
    '078-05-1120', 'MRN-PLANTED-7731', 'PLAN-PLANTED-4410', 'ACCT-PLANTED-9921', 'DL-PLANTED-S5531',
    // (L) vehicles
    '1HGCM82633A004352', 'PLATE-7ABC123',
    // (M) devices
    '(01)00643169001763(17)160712(21)21A11F4855', 'SN-PLANTED-0042', 'LOT-PLANTED-77', 'MODEL-PLANTED-9', 'Planted Pump 3000',
    // (N) URLs
    'https://patient-blog.example/planted', 'https://ehr.example/fhir/Organization/org-planted',
    // (O) IPs
    '192.168.14.77', '2001:db8::7334',
    // (P) biometrics
    'UExBTlRFRC1WT0lDRS1QUklOVA==',
    // (Q) photos
    'UExBTlRFRC1GQUNFLVBIT1RP', 'https://photos.example/planted-face.jpg',
    // (R) other: ids, narrative, notes, extensions, meta
    'pt-planted-001', 'obs-planted-002', 'planted narrative', 'planted-meta-source', 'Planted birthplace', 'planted-element-id',
  ];
  const patient = 'pt-planted-001';
  const resources: FhirResource[] = [
    {
      resourceType: 'Patient',
      id: patient,
      meta: { source: 'planted-meta-source', lastUpdated: '2021-09-10T11:12:13.456Z' },
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">planted narrative</div>' },
      extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Planted birthplace' } }],
      identifier: [
        { system: 'http://hl7.org/fhir/sid/us-ssn', value: '078-05-1120' },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: 'MRN-PLANTED-7731' },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MB' }] }, value: 'PLAN-PLANTED-4410' },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'AN' }] }, value: 'ACCT-PLANTED-9921' },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'DL' }] }, value: 'DL-PLANTED-S5531' },
      ],
      name: [{ id: 'planted-element-id', family: 'Plantedfamily', given: ['Plantedgiven'], text: 'Plantedgiven Plantedfamily' }],
      telecom: [
        { system: 'phone', value: '+1-617-555-0101' },
        { system: 'fax', value: '617-555-0102' },
        { system: 'email', value: 'planted.patient@example.org' },
        { system: 'url', value: 'https://patient-blog.example/planted' },
      ],
      gender: 'female',
      birthDate: '1931-04-05',
      address: [
        { use: 'home', line: ['1 Planted Street'], city: 'Plantedville', district: 'Plantedcounty', state: 'NH', postalCode: '03601', country: 'US' },
        { use: 'work', state: 'MA', postalCode: '02139-4307', period: { start: '2022-07-08' } },
        { use: 'old', postalCode: '036011' },
      ],
      photo: [
        { contentType: 'image/jpeg', data: 'UExBTlRFRC1GQUNFLVBIT1RP' },
        { contentType: 'image/jpeg', url: 'https://photos.example/planted-face.jpg' },
      ],
      contact: [{ name: { family: 'Plantedrelative' }, telecom: [{ system: 'email', value: 'relative.planted@example.org' }] }],
      managingOrganization: { reference: 'https://ehr.example/fhir/Organization/org-planted', display: 'Plantedorg Clinic' },
    },
    {
      resourceType: 'Observation',
      id: 'obs-planted-002',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '30525-0', display: 'Age' }] },
      subject: { reference: `Patient/${patient}` },
      effectiveDateTime: '2024-02-03T10:11:12+01:00',
      issued: '2023-11-12T08:09:10Z',
      performer: [{ reference: 'Practitioner/dr-planted', display: 'Dr. Plantedpractitioner' }],
      valueQuantity: { value: 95, unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' },
      note: [{ text: 'Logged in from 192.168.14.77 and 2001:db8::7334; drives PLATE-7ABC123' }],
    },
    {
      resourceType: 'Observation',
      id: 'obs-planted-003',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }], text: 'glucose per Plantedfamily' },
      subject: { reference: `urn:uuid:${patient}` },
      effectivePeriod: { start: '2024-02-03', end: '2024-02-03T10:11:12+01:00' },
      valueString: 'VIN 1HGCM82633A004352',
    },
    {
      resourceType: 'Condition',
      id: 'cond-planted-004',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I10' }] },
      subject: { reference: `Patient/${patient}` },
      onsetAge: { value: 95, unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' },
      abatementDateTime: '1935-06-07',
      recordedDate: '2022-07-08',
      note: [{ text: 'see https://patient-blog.example/planted' }],
    },
    {
      resourceType: 'Device',
      id: 'dev-planted-005',
      udiCarrier: [{ deviceIdentifier: '00643169001763', carrierHRF: '(01)00643169001763(17)160712(21)21A11F4855' }],
      serialNumber: 'SN-PLANTED-0042',
      lotNumber: 'LOT-PLANTED-77',
      modelNumber: 'MODEL-PLANTED-9',
      deviceName: [{ name: 'Planted Pump 3000', type: 'user-friendly-name' }],
      patient: { reference: `Patient/${patient}` },
    },
    {
      resourceType: 'DocumentReference',
      id: 'doc-planted-006',
      status: 'current',
      type: { coding: [{ system: 'http://loinc.org', code: '11506-3' }] },
      subject: { reference: `Patient/${patient}` },
      date: '2023-11-12T08:09:10Z',
      description: 'Voice sample of Plantedgiven',
      content: [
        { attachment: { contentType: 'audio/wav', data: 'UExBTlRFRC1WT0lDRS1QUklOVA==', title: 'planted narrative' } },
      ],
    },
    {
      resourceType: 'MedicationRequest',
      id: 'med-planted-007',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '860975' }] },
      subject: { reference: `Patient/${patient}` },
      authoredOn: '2022-07-08',
      dosageInstruction: [{ text: 'Call 617-555-0102', timing: { repeat: { timeOfDay: ['08:30:00'], boundsPeriod: { start: '2022-07-08' } } } }],
    },
  ];
  return { resources, planted };
}

describe('Safe Harbor rules', () => {
  it('ZIP codes keep three digits, or become 000 in the 17 restricted areas; anything else is removed', () => {
    expect(safeHarborZip('02139')).toBe('021');
    expect(safeHarborZip('02139-4307')).toBe('021');
    expect(safeHarborZip('021394307')).toBe('021');
    for (const zip3 of RESTRICTED_ZIP3) expect(safeHarborZip(`${zip3}42`)).toBe('000');
    expect(RESTRICTED_ZIP3.size).toBe(17);
    expect(safeHarborZip('0213')).toBeUndefined();
    expect(safeHarborZip('036011')).toBeUndefined();
    expect(safeHarborZip('SW1A 1AA')).toBeUndefined();
  });

  it('a year is withheld once it could mean an age of 90 or older', () => {
    expect(yearImpliesAgeOver89(1937, NOW)).toBe(false); // 88 or 89
    expect(yearImpliesAgeOver89(1936, NOW)).toBe(true); // 89 or 90: could be 90
    expect(yearImpliesAgeOver89(1931, NOW)).toBe(true);
  });

  it('names the 18 identifiers, and guesses what free text carried', () => {
    expect(SAFE_HARBOR_IDENTIFIERS).toHaveLength(18);
    expect(freeTextKind('from 10.0.0.1')).toBe(SafeHarborIdentifier.IpAddress);
    expect(freeTextKind('see http://x.example')).toBe(SafeHarborIdentifier.Url);
    expect(freeTextKind('VIN 1HGCM82633A004352')).toBe(SafeHarborIdentifier.Vehicle);
    expect(freeTextKind('a@b.org')).toBe(SafeHarborIdentifier.Email);
    expect(freeTextKind('feeling fine')).toBe(SafeHarborIdentifier.Other);
  });
});

describe('buildExtract', () => {
  it('removes every planted identifier of all 18 kinds, and reports each kind', () => {
    const { resources, planted } = plantedPatient();
    const extract = buildExtract(resources, { categories: ALL, now: NOW });
    const text = scanText(extract);
    for (const value of planted) expect(text, value).not.toContain(value);
    expect(text).not.toMatch(/\d{4}-\d{2}/); // no month anywhere
    expect(text).not.toMatch(/\d{2}:\d{2}/); // no time anywhere
    expect(new Set(extract.removed.map((r) => r.identifier))).toEqual(new Set(SAFE_HARBOR_IDENTIFIERS));
    expectValid(extract);
    expectResolves(extract);

    const patient = extract.resources.find((r) => r.resourceType === 'Patient')!;
    expect(patient.birthDate).toBeUndefined(); // born 1931: 95 in 2026
    expect(patient.address).toEqual([{ use: 'home', state: 'NH', postalCode: '000', country: 'US' }, { use: 'work', state: 'MA', postalCode: '021' }, { use: 'old' }]);
    expect(Object.keys(patient).sort()).toEqual(['address', 'gender', 'id', 'managingOrganization', 'resourceType']);
    expect(patient.managingOrganization).toEqual({ display: WITHHELD_REFERENCE_DISPLAY });

    const age = extract.resources.find((r) => r.resourceType === 'Observation' && JSON.stringify(r).includes('30525-0'))!;
    expect(age.valueQuantity).toEqual({ value: 90, comparator: '>=', unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' });
    expect(age.effectiveDateTime).toBe('2024');
    expect(age.code).toEqual({ coding: [{ system: 'http://loinc.org', code: '30525-0', display: 'Age' }] }); // coded values stay
    expect(age.performer).toEqual([{ display: WITHHELD_REFERENCE_DISPLAY }]);
    const condition = extract.resources.find((r) => r.resourceType === 'Condition')!;
    expect(condition.onsetAge).toMatchObject({ value: 90, comparator: '>=' });
    expect(condition.recordedDate).toBe('2022');
    expect(condition.abatementDateTime).toBeUndefined(); // 1935: an age over 89 by itself
  });

  it('keeps ages and birth years up to 89', () => {
    const extract = buildExtract(
      [
        { resourceType: 'Patient', id: 'p', birthDate: '1937-12-31' },
        { resourceType: 'Condition', id: 'c', subject: { reference: 'Patient/p' }, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] }, onsetAge: { value: 89, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' } },
      ],
      { categories: ALL, now: NOW },
    );
    expect(extract.resources[0]!.birthDate).toBe('1937');
    expect(extract.resources[1]!.onsetAge).toEqual({ value: 89, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a' });
    expectValid(extract);
  });

  it('leaves nothing identifying in the extracts of 60 synthetic patients; they validate and hold together', () => {
    const bundles = synthesizeBundles({ patients: 60, seed: 'safe-harbor' });
    let references = 0;
    for (const bundle of bundles) {
      const resources = bundle.entry.map((e) => e.resource);
      const extract = buildExtract(resources, { categories: ALL, now: NOW });
      expect(extract.resources).toHaveLength(resources.length);
      const patient = resources.find((r) => r.resourceType === 'Patient')!;
      const [name] = patient.name as Array<{ family: string; given: string[] }>;
      const [address] = patient.address as Array<{ postalCode: string }>;
      const text = scanText(extract);
      // Names are short words ("Bo", "Eli") that code displays contain ("Body mass index"): look for them as words.
      for (const word of [name!.family, ...name!.given]) expect(text).not.toMatch(new RegExp(`\\b${word}\\b`));
      const planted = [
        'synthetic test patient', patient.birthDate as string, address!.postalCode, 'synth-',
        ...resources.map((r) => r.id!),
        ...resources.flatMap((r) => JSON.stringify(r).match(/\d{4}-\d{2}-\d{2}/g) ?? []),
        btoa('Synthetic progress note: patient doing well.'),
      ];
      for (const value of planted) expect(text, value).not.toContain(value);
      expect(text).not.toMatch(/\d{4}-\d{2}/);
      const out = extract.resources.find((r) => r.resourceType === 'Patient')!;
      const zip = (out.address as Array<{ postalCode?: string }> | undefined)?.[0]?.postalCode;
      const expected = safeHarborZip(address!.postalCode);
      expect(zip).toBe(expected);
      expect(zip === undefined || /^\d{3}$/.test(zip)).toBe(true);
      const year = Number((patient.birthDate as string).slice(0, 4));
      expect(out.birthDate).toBe(yearImpliesAgeOver89(year, NOW) ? undefined : String(year));
      references += expectResolves(extract);
      expectValid(extract);
    }
    expect(references).toBeGreaterThan(60 * 10);
  });

  it('keeps only the study categories; references to the patient resolve to a stub that says nothing', () => {
    const [bundle] = synthesizeBundles({ patients: 1, seed: 'categories' });
    const resources = bundle!.entry.map((e) => e.resource);
    const extract = buildExtract(resources, { categories: mask('labs', 'conditions'), now: NOW });
    const stubs = extract.resources.filter((r) => r.resourceType === 'Patient');
    expect(stubs).toHaveLength(1);
    expect(Object.keys(stubs[0]!).sort()).toEqual(['id', 'resourceType']);
    const data = extract.resources.filter((r) => r.resourceType !== 'Patient');
    expect(data.length).toBe(resources.filter((r) => ['labs', 'conditions'].includes(categorize(r))).length);
    for (const r of data) expect(['labs', 'conditions']).toContain(categorize(r));
    expect(data.some((r) => r.resourceType === 'MedicationRequest' || r.resourceType === 'Immunization')).toBe(false);
    expectResolves(extract);
    expectValid(extract);
    expect(buildExtract(resources, { categories: 0n }).resources).toEqual([]);
  });

  it('pseudonyms are fresh for every extract and consistent within one', () => {
    const [bundle] = synthesizeBundles({ patients: 1, seed: 'pseudonyms' });
    const resources = bundle!.entry.map((e) => e.resource);
    const a = buildExtract(resources, { categories: ALL });
    const b = buildExtract(resources, { categories: ALL });
    const idsA = new Set(a.resources.map((r) => r.id));
    expect(idsA.size).toBe(resources.length);
    for (const r of b.resources) expect(idsA.has(r.id)).toBe(false);
    const patientId = a.resources.find((r) => r.resourceType === 'Patient')!.id;
    expect(new Set(referencesIn(a.resources))).toEqual(new Set([`Patient/${patientId}`]));
  });

  it('takes Bundles apart and resolves fullUrl references; other resource shapes stay valid FHIR', () => {
    const patientUrl = 'urn:uuid:6f1c2d3e-0000-4000-8000-000000000001';
    const transaction: FhirResource = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: patientUrl, resource: { resourceType: 'Patient', gender: 'other', birthDate: '1980-02-29', deceasedDateTime: '2024-03-04T05:06:07Z' }, request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:6f1c2d3e-0000-4000-8000-000000000002', resource: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' }, subject: { reference: patientUrl }, period: { start: '2024-03-01T09:00:00Z', end: '2024-03-01T10:00:00Z' }, location: [{ location: { reference: 'Location/loc-planted', display: 'Ward 7, Plantedville' } }] }, request: { method: 'POST', url: 'Encounter' } },
        { fullUrl: 'urn:uuid:6f1c2d3e-0000-4000-8000-000000000003', resource: { resourceType: 'Procedure', status: 'completed', code: { coding: [{ system: 'http://snomed.info/sct', code: '73761001' }] }, subject: { reference: patientUrl }, encounter: { reference: 'urn:uuid:6f1c2d3e-0000-4000-8000-000000000002' }, performedPeriod: { start: '2024-03-01', end: '2024-03-01' } }, request: { method: 'POST', url: 'Procedure' } },
        { fullUrl: 'urn:uuid:6f1c2d3e-0000-4000-8000-000000000004', resource: { resourceType: 'AllergyIntolerance', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, patient: { reference: patientUrl }, category: ['food'], criticality: 'high', reaction: [{ manifestation: [{ coding: [{ system: 'http://snomed.info/sct', code: '39579001' }] }], onset: '2019-05-06', description: 'after Plantedfamily wedding' }] }, request: { method: 'POST', url: 'AllergyIntolerance' } },
        { fullUrl: 'urn:uuid:6f1c2d3e-0000-4000-8000-000000000005', resource: { resourceType: 'FamilyMemberHistory', status: 'completed', patient: { reference: patientUrl }, relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'FTH' }] }, name: 'Plantedfather', ageAge: { value: 1100, unit: 'months', system: 'http://unitsofmeasure.org', code: 'mo' } }, request: { method: 'POST', url: 'FamilyMemberHistory' } },
        { fullUrl: 'urn:uuid:6f1c2d3e-0000-4000-8000-000000000006', resource: { resourceType: 'Coverage', status: 'active', subscriberId: 'SUB-PLANTED-1', beneficiary: { reference: patientUrl }, payor: [{ reference: 'Organization/payer-planted', display: 'Planted Health Plan' }] }, request: { method: 'POST', url: 'Coverage' } },
        { fullUrl: 'urn:uuid:6f1c2d3e-0000-4000-8000-000000000007', resource: { resourceType: 'Location', name: 'Ward 7', address: { city: 'Plantedville', postalCode: '90210', state: 'CA' }, position: { longitude: -118.4, latitude: 34.1 } }, request: { method: 'POST', url: 'Location' } },
      ],
    };
    const extract = buildExtract([transaction], { categories: ALL, now: NOW });
    expect(extract.resources.map((r) => r.resourceType).sort()).toEqual(['AllergyIntolerance', 'Coverage', 'Encounter', 'FamilyMemberHistory', 'Location', 'Patient', 'Procedure']);
    expectValid(extract);
    expect(expectResolves(extract)).toBe(6); // the patient five times, the encounter once
    const text = scanText(extract);
    for (const value of ['Plantedville', 'Plantedfamily', 'Plantedfather', 'SUB-PLANTED-1', 'Planted Health Plan', 'Ward 7', '6f1c2d3e', '118.4', '2024-03', '02-29']) {
      expect(text, value).not.toContain(value);
    }
    const byType = Object.fromEntries(extract.resources.map((r) => [r.resourceType, r]));
    expect(byType.Patient).toMatchObject({ birthDate: '1980', deceasedDateTime: '2024' });
    expect(byType.Encounter).toMatchObject({ period: { start: '2024', end: '2024' }, class: { code: 'AMB', display: 'ambulatory' } });
    expect(byType.FamilyMemberHistory!.ageAge).toEqual({ value: 90, comparator: '>=', unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' }); // 1,100 months
    expect(byType.Location!.address).toEqual({ postalCode: '902', state: 'CA' });
    expect(byType.AllergyIntolerance).toMatchObject({ category: ['food'], criticality: 'high', reaction: [{ onset: '2019' }] });
  });

  it('drops a resource whose meaning a modifier extension changes, and refuses input that is not FHIR', () => {
    const extract = buildExtract(
      [{ resourceType: 'Condition', id: 'c', subject: { reference: 'Patient/p' }, modifierExtension: [{ url: 'http://example.org/negated', valueBoolean: true }] }],
      { categories: ALL },
    );
    expect(extract.resources).toEqual([]);
    expect(extract.removed).toEqual([{ path: 'Condition[0]', identifier: SafeHarborIdentifier.Other }]);
    expect(() => buildExtract([{ id: 'x' } as unknown as FhirResource], { categories: ALL })).toThrow(expect.objectContaining({ code: 'EXTRACT_INPUT_INVALID' }));
  });
});
