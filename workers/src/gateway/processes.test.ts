// The committee as `npm start` runs it: three gateway processes (k = 2) on a real chain. A gateway
// killed with SIGKILL right after it answered a release still has that release in its log when it
// comes back; with one gateway down reads still work, with two down the error names both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { CommitteeUnavailableError } from '@consentry/sdk/crypto/shares';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { startAccessFixture, type AccessFixture, type Requester } from './testing/fixture.ts';

const lab = { resourceType: 'Observation', id: 'proc-lab', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] }, valueQuantity: { value: 6.4, unit: '%' } } as FhirResource;

let f: AccessFixture;
let clinic: Requester;
let labId: Hex;

beforeAll(async () => {
  f = await startAccessFixture([lab], { processes: true });
  labId = (await f.records.list())[0]!.recordId;
  clinic = await f.organization(0);
  await f.grant(clinic, ['labs'], ['labs'], 7);
}, 240_000);

afterAll(async () => {
  await f?.close();
});

interface FeedEntry {
  id: string;
  requester: string;
  recordId: string;
}
const feed = async (url: string) => ((await (await fetch(`${url}/log?after=0&limit=1000`)).json()) as { entries: FeedEntry[] }).entries;

describe('gateway processes', () => {
  it('keeps a release in its log across SIGKILL right after answering it', async () => {
    const port = Number(new URL(f.refs[2]!.url).port);
    // Only gateway 2 is asked, and it is killed the moment its answer arrives (k is not reached:
    // the point is that its share left, so its log entry must survive).
    const killAfterAnswer: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const body = await res.text();
      f.children[2]!.kill('SIGKILL');
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const err = await f.fetchKey(clinic, labId, [f.refs[2]!], killAfterAnswer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitteeUnavailableError); // one share of the two needed
    await new Promise((r) => f.children[2]!.once('exit', r));
    expect(f.children[2]!.signalCode).toBe('SIGKILL');
    await f.openGateway(2, port);
    const entries = await feed(f.refs[2]!.url);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ requester: clinic.address.toLowerCase(), recordId: labId });
  });

  it('reads with one gateway stopped; with two stopped says which members failed', async () => {
    await f.stopGateway(0);
    const got = await f.fetchKey(clinic, labId);
    expect(got.releasedBy.sort()).toEqual([f.refs[1]!.member.toLowerCase(), f.refs[2]!.member.toLowerCase()].sort());
    await f.stopGateway(1);
    const err = await f.fetchKey(clinic, labId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitteeUnavailableError);
    expect((err as Error).message).toMatch(/Committee unavailable: 1 of the 2 shares/);
    expect((err as CommitteeUnavailableError).missing.sort()).toEqual([f.refs[0]!.member.toLowerCase(), f.refs[1]!.member.toLowerCase()].sort());
  });
});
