// GET /api/access/:patient/records against a real chain, a real vault with a patient's imported
// records, three real gateways and the embedded indexer: a clinician who asked for labs and
// mental-health and was granted labs sees both listed (and the gateways refuse the mental-health
// one), never the allergy it did not ask for; an organisation that never asked gets a 403 in words;
// break-glass lists the emergency categories; bad input is a 400 in words.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { keccak256, toHex, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessGrantsAbi } from '@consentry/sdk/abi/generated';
import { ReleaseRefusedError } from '@consentry/sdk/access/release';
import { freePort } from '@consentry/sdk/net';
import { categoryMask } from '@consentry/sdk/records/categories';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { sessionTypedData } from '@consentry/sdk/records/session';
import { startIndexerService, type IndexerService } from '@consentry/workers/src/indexer/main.ts';
import { CHAIN, startAccessFixture, type AccessFixture, type Requester } from '@consentry/workers/src/gateway/testing/fixture.ts';
import { loader } from '../routes/api.access.$patient.records.ts';
import { askedMaskFromIndex } from './clinical.server.ts';
import { signIn } from './session.server.ts';

const lab = { resourceType: 'Observation', id: 'hba1c-1', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] }, valueQuantity: { value: 7.2, unit: '%' } } as FhirResource;
const mental = { resourceType: 'Condition', id: 'dep-1', subject: { reference: 'Patient/p' }, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'F32.9' }] } } as FhirResource;
const allergy = { resourceType: 'AllergyIntolerance', id: 'peanut-1', patient: { reference: 'Patient/p' }, code: { text: 'Peanut' } } as FhirResource;

let f: AccessFixture;
let indexer: IndexerService;
let clinic: Requester;
let stranger: Requester;
let medic: Requester;
let dataDir: string;

type Listing = { asked: string[]; live: string[]; records: Array<{ recordId: string; version: number; category: string; resourceType: string }> };

async function get(who: Requester | null, patient: string): Promise<{ status: number; body: Listing & { error?: { code: string; message: string } } }> {
  const headers = new Headers();
  if (who) {
    const issuedAt = Math.floor(Date.now() / 1000);
    const signature = await privateKeyToAccount(who.privateKey).signTypedData(sessionTypedData(CHAIN, who.address, issuedAt));
    const { cookie } = await signIn({ address: who.address, issuedAt, signature });
    headers.set('cookie', cookie.split(';')[0]!);
  }
  const res = await loader({ request: new Request(`http://web/api/access/${patient}/records`, { headers }), params: { patient }, context: {} });
  return { status: res.status, body: (await res.json()) as Listing & { error?: { code: string; message: string } } };
}

async function indexed(requester: Address, mask: number) {
  const deadline = Date.now() + 30_000;
  while ((await askedMaskFromIndex(indexer.server.url, requester, f.patient.address)) !== mask) {
    if (Date.now() > deadline) throw new Error('the indexer did not index the request in 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  f = await startAccessFixture([lab, mental, allergy]);
  dataDir = mkdtempSync(join(tmpdir(), 'consentry-clinical-index-'));
  const env = { RPC_URL: f.anvil.rpcUrl, CHAIN_ID: String(CHAIN), DEPLOYMENTS_DIR: f.dir, DATA_DIR: dataDir, INDEXER_PORT: String(await freePort()), CONFIRMATIONS: '0', INDEXER_POLL_MS: '100' };
  indexer = await startIndexerService(env, pino({ level: 'silent' }) as unknown as Parameters<typeof startIndexerService>[1]);
  // The web server's configuration: the fixture's vault (DATA_DIR), chain, deployment and index.
  Object.assign(process.env, { RPC_URL: f.anvil.rpcUrl, CHAIN_ID: String(CHAIN), DEPLOYMENTS_DIR: f.dir, DATA_DIR: f.dir, SUBGRAPH_URL: indexer.server.url, DATABASE_URL: '' });
  clinic = await f.organization(0);
  stranger = await f.organization(0);
  medic = await f.organization(1);
}, 180_000);

afterAll(async () => {
  await indexer?.stop();
  await f?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /api/access/:patient/records', () => {
  it('lists what the clinician asked for (labs, mental-health) though only labs was granted; the gateways refuse the other', async () => {
    await f.grant(clinic, ['labs', 'mental-health'], ['labs'], 7);
    await indexed(clinic.address, categoryMask(['labs', 'mental-health']));
    const { status, body } = await get(clinic, f.patient.address);
    expect(status).toBe(200);
    expect(body.asked.sort()).toEqual(['labs', 'mental-health']);
    expect(body.live).toEqual(['labs']);
    expect(body.records.map((r) => [r.category, r.resourceType, r.version])).toEqual([
      ['labs', 'Observation', 1],
      ['mental-health', 'Condition', 1],
    ]);
    // Ids, versions, categories and types only: no CID, no sealed key, no content.
    expect(Object.keys(body.records[0]!).sort()).toEqual(['category', 'recordId', 'resourceType', 'version']);
    const refused = await f.fetchKey(clinic, body.records[1]!.recordId as `0x${string}`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ReleaseRefusedError);
    expect((refused as ReleaseRefusedError).failures[0]!.reason).toBe("Your grant does not cover this record's category");
  });

  it('answers 403 in words to an organisation that never asked, and 401 to nobody signed in', async () => {
    const { status, body } = await get(stranger, f.patient.address);
    expect(status).toBe(403);
    expect(body.error).toEqual({ code: 'NOT_A_REQUESTER', message: expect.stringMatching(/not asked this patient/) });
    expect(body.records).toBeUndefined();
    expect((await get(null, f.patient.address)).status).toBe(401);
  });

  it('refuses a malformed patient address in words', async () => {
    const { status, body } = await get(clinic, 'not-an-address');
    expect(status).toBe(400);
    expect(body.error?.message).toBe('The patient must be an address (0x followed by 40 hex digits)');
  });

  it('lists the emergency categories to a provider with an open break-glass window, nothing else', async () => {
    expect((await get(medic, f.patient.address)).status).toBe(403);
    await f.send(medic.privateKey, f.deployment.contracts.AccessGrants!.address, accessGrantsAbi, 'breakGlass', [f.patient.address, keccak256(toHex('unconscious on arrival')), 0]);
    const { status, body } = await get(medic, f.patient.address);
    expect(status).toBe(200);
    expect(body.asked).toEqual([]);
    expect(body.live.sort()).toEqual(['allergies', 'conditions', 'demographics', 'medications']);
    expect(body.records.map((r) => r.category)).toEqual(['allergies']);
  });
});
