import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cidOf } from '../blobs/cid.ts';
import { createFsBlobStore } from '../blobs/fs.ts';
import {
  decodeStudyMetadata,
  describeCriteria,
  putStudyMetadata,
  readStudyMetadata,
  studyMetadataBytes,
  studyMetadataCid,
  studyMetadataHash,
  type StudyMetadata,
} from './study-metadata.ts';

const dir = mkdtempSync(join(tmpdir(), 'consentry-study-metadata-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const study: StudyMetadata = {
  version: 1,
  title: 'Type 2 diabetes and HbA1c',
  summary: 'A synthetic demo study.',
  criteria: { version: 1, age: { min: 18, max: 90 }, hba1c: { min: 6.5 }, conditions: { anyOf: ['E11.*'] } },
};

describe('study metadata', () => {
  it('is canonical JSON whose sha256 is the metadataHash and the CID digest', () => {
    const reordered = { criteria: { conditions: { anyOf: ['E11.*'] }, hba1c: { min: 6.5 }, age: { max: 90, min: 18 }, version: 1 }, summary: study.summary, title: study.title, version: 1 } as StudyMetadata;
    const bytes = studyMetadataBytes(study);
    expect(new TextDecoder().decode(bytes)).toBe(
      '{"criteria":{"age":{"max":90,"min":18},"conditions":{"anyOf":["E11.*"]},"hba1c":{"min":6.5},"version":1},"summary":"A synthetic demo study.","title":"Type 2 diabetes and HbA1c","version":1}',
    );
    expect(studyMetadataBytes(reordered)).toEqual(bytes);
    const hash = studyMetadataHash(study);
    expect(hash).toBe(`0x${createHash('sha256').update(bytes).digest('hex')}`);
    expect(studyMetadataCid(hash)).toBe(cidOf(bytes));
  });

  it('round-trips through the blob store, checked against the on-chain hash', async () => {
    const store = await createFsBlobStore(join(dir, 'blobs'));
    const { metadataHash, cid } = await putStudyMetadata(store, study);
    expect(cid).toBe(studyMetadataCid(metadataHash));
    expect(await readStudyMetadata(store, metadataHash)).toEqual(study);
    // Another study's hash (nothing stored under it) is a missing blob, not a wrong answer.
    const other = studyMetadataHash({ ...study, title: 'Another study' });
    await expect(readStudyMetadata(store, other)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
  });

  it('refuses bytes that do not match the hash, are not canonical, or are not a valid description, in words', () => {
    const bytes = studyMetadataBytes(study);
    const hash = studyMetadataHash(study);
    expect(() => decodeStudyMetadata(bytes, studyMetadataHash({ ...study, summary: 'x' }))).toThrow(/does not match the hash on chain/);
    const pretty = new TextEncoder().encode(JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 2));
    expect(() => decodeStudyMetadata(pretty, `0x${createHash('sha256').update(pretty).digest('hex')}`)).toThrow(/not in canonical form/);
    const bad = new TextEncoder().encode('{"criteria":{"version":1,"bloodType":"A"},"summary":"","title":"Hi","version":1}');
    expect(() => decodeStudyMetadata(bad, `0x${createHash('sha256').update(bad).digest('hex')}`)).toThrow(
      /title: the title needs at least 3 characters.*criteria: Unrecognized key/,
    );
    expect(decodeStudyMetadata(bytes, hash)).toEqual(study);
  });

  it('describes criteria in words, keyed like the local check', () => {
    expect(
      describeCriteria({
        version: 1,
        age: { min: 18, max: 90 },
        sex: ['female', 'male'],
        smoker: ['never'],
        hba1c: { min: 6.5 },
        bmi: { max: 40 },
        phq9: { min: 5, max: 20 },
        conditions: { anyOf: ['E11.*', 'E10.9'], noneOf: ['F*'] },
        credentialMaxAgeDays: 365,
      }),
    ).toEqual([
      { criterion: 'age', text: 'Aged 18 to 90' },
      { criterion: 'sex', text: 'Sex: female or male' },
      { criterion: 'smoker', text: 'Smoking status: never' },
      { criterion: 'hba1c', text: 'HbA1c at least 6.5 %' },
      { criterion: 'bmi', text: 'BMI at most 40 kg/m2' },
      { criterion: 'phq9', text: 'PHQ-9 depression score between 5 and 20' },
      { criterion: 'conditions.anyOf', text: 'Diagnosed with at least one of E11 (any code starting E11) or E10.9' },
      { criterion: 'conditions.noneOf', text: 'Not diagnosed with F (any code starting F)' },
      { criterion: 'credentialMaxAgeDays', text: 'Credential issued in the last 365 days' },
    ]);
    expect(describeCriteria({ version: 1 })).toEqual([]);
  });
});
