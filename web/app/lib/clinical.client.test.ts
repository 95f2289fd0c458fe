// The browser-side helpers against real gateways: gatewayRefs learns each gateway's member from
// GET /health and tolerates one down; a refusal and an outage of the committee read in words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { startAccessFixture, type AccessFixture } from '@consentry/workers/src/gateway/testing/fixture.ts';
import { ClinicalReadError, gatewayRefs, readErrorOf } from './clinical.client.ts';

const lab = { resourceType: 'Observation', id: 'hba1c-1', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { text: 'HbA1c' } } as FhirResource;

let f: AccessFixture;
beforeAll(async () => {
  f = await startAccessFixture([lab]);
}, 180_000);
afterAll(async () => {
  await f?.close();
});

describe('gatewayRefs', () => {
  it("names each gateway's committee member, leaves out one that is down, and says so when none answers", async () => {
    expect(await gatewayRefs(f.refs.map((r) => `${r.url}/`))).toEqual(f.refs.map((r) => ({ url: r.url, member: r.member })));
    await f.stopGateway(0);
    try {
      expect(await gatewayRefs(f.refs.map((r) => r.url))).toEqual(f.refs.slice(1).map((r) => ({ url: r.url, member: r.member })));
      await expect(gatewayRefs([f.refs[0]!.url])).rejects.toThrow(`None of the 1 release gateways answered (${f.refs[0]!.url})`);
      await expect(gatewayRefs([])).rejects.toThrow(/No release gateways are configured/);
    } finally {
      await f.openGateway(0, Number(new URL(f.refs[0]!.url).port));
    }
  });
});

describe('readErrorOf', () => {
  it("gives the gateways' shared refusal as the message, and names the members of an outage", async () => {
    const recordId = (await f.records.list())[0]!.recordId;
    const clinic = await f.organization(0);
    const refused = readErrorOf(await f.fetchKey(clinic, recordId).catch((e: unknown) => e));
    expect(refused).toBeInstanceOf(ClinicalReadError);
    expect(refused.code).toBe('NO_GRANT');
    expect(refused.message).toBe('No grant from this patient covers you (none was approved, or it was revoked)');
    await f.grant(clinic, ['labs'], ['labs'], 1);
    await f.stopGateway(1);
    await f.stopGateway(2);
    try {
      const down = readErrorOf(await f.fetchKey(clinic, recordId).catch((e: unknown) => e));
      expect(down.code).toBe('COMMITTEE_UNAVAILABLE');
      expect(down.message).toMatch(/^Committee unavailable: 1 of the 2 shares needed; no share from members /);
      expect(down.failures.map((x) => x.member).sort()).toEqual([f.refs[1]!.member.toLowerCase(), f.refs[2]!.member.toLowerCase()].sort());
    } finally {
      await f.openGateway(1, Number(new URL(f.refs[1]!.url).port));
      await f.openGateway(2, Number(new URL(f.refs[2]!.url).port));
    }
  });
});
