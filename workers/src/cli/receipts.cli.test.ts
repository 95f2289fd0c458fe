// `consentry receipts` as a participant and a patient run it (the real command in a child process)
// against the market fixture's chain and gateways: an enrollment with a real proof, three clinical
// grants (one replaced, one revoked) and releases through the committee. Every resource printed is
// valid FHIR R4 (validateFhirResource), carries what the chain says, and each release re-checks
// against its root.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessGrantsAbi } from '@consentry/sdk/abi/generated';
import { REPO_ROOT } from '@consentry/sdk/config';
import { verifyReleaseAuditEvent, type AuditEventResource, type ConsentResource } from '@consentry/sdk/receipts/index';
import { validateFhirResource } from '@consentry/sdk/records/fhir';
import type { Requester } from '../gateway/testing/fixture.ts';
import { startMarketFixture, type MarketFixture, type Participant } from '../research/testing/market-fixture.ts';

const CLI = join(REPO_ROOT, 'scripts', 'consentry.mjs');

let f: MarketFixture;
let study: bigint;
let participant: Participant;
let clinic: Requester;
let insurer: Requester;
let env: Record<string, string>;
let released: Hex[];
const out = mkdtempSync(join(tmpdir(), 'consentry-cli-receipts-'));

const execFileAsync = promisify(execFile);
// Asynchronous: the gateways answer from this process, so it must not block while the command runs.
const consentry = (...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> =>
  execFileAsync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 }).then(
    (r) => ({ status: 0, ...r }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ status: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
  );
const noStack = (r: { stderr: string }) => expect(r.stderr).not.toMatch(/\n\s+at /);
const valid = (resource: unknown) => expect(validateFhirResource(resource)).toEqual([]);

beforeAll(async () => {
  f = await startMarketFixture();
  study = await f.approvedStudy({ minCohort: 1 });
  participant = f.participant('cli-receipts', 0, study);
  await f.enroll(participant, study);
  const a = f.access;
  clinic = await a.organization(0);
  insurer = await a.organization(3);
  await a.grant(clinic, ['labs', 'medications'], ['medications'], 30);
  await a.grant(clinic, ['labs', 'medications'], ['labs'], 30); // replaces the first on chain
  await a.grant(insurer, ['labs'], ['labs'], 7);
  await a.send(a.patient.privateKey, a.deployment.contracts.AccessGrants!.address, accessGrantsAbi, 'revoke', [insurer.address]);
  const labs = (await a.records.list()).filter((r) => r.category === 'labs');
  released = labs.map((r) => r.recordId as Hex).slice(0, 1);
  for (const id of released) await a.fetchKey(clinic, id);
  for (const g of a.gateways) await g.postLogRoots();
  env = {
    RPC_URL: a.anvil.rpcUrl,
    CHAIN_ID: '31337',
    DEPLOYMENTS_DIR: a.dir,
    DATA_DIR: a.dir,
    DATABASE_URL: '',
    GATEWAY_URLS: a.refs.map((r) => r.url).join(','),
    CONSENTRY_PRIVATE_KEY: '',
  };
}, 180_000);

afterAll(async () => {
  await f?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('consentry receipts', () => {
  it('prints an enrollment as a research Consent naming only the study address', async () => {
    const r = await consentry('receipts', 'enrollment', String(study), '--participant', participant.study.address);
    expect(r.status, r.stderr).toBe(0);
    const consent = JSON.parse(r.stdout) as ConsentResource;
    valid(consent);
    expect(consent).toMatchObject({ resourceType: 'Consent', status: 'active', scope: { coding: [{ code: 'research' }] } });
    expect(consent.patient.identifier).toEqual({ system: 'urn:consentry:study-participant', value: participant.study.address.toLowerCase() });
    expect(consent.policyRule.coding[0]!.code).toBe('hipaa-research');
    expect(consent.extension.map((e) => e.extension?.find((x) => x.url === 'event')?.valueCode ?? e.url)).toEqual(['urn:consentry:fhir:extension:study', 'enrollment', 'irb-approval']);
    // Pseudonymous: the participant's main wallet is nowhere in it.
    expect(r.stdout.toLowerCase()).not.toContain(participant.main.slice(2).toLowerCase());

    const file = join(out, 'enrollment.json');
    const written = await consentry('receipts', 'enrollment', String(study), '--participant', participant.study.address, '--out', file);
    expect(written.status, written.stderr).toBe(0);
    expect(written.stdout).toBe('');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(consent);
  });

  it("prints each of the patient's grants as a privacy Consent, the replaced and the revoked ones inactive", async () => {
    const r = await consentry('receipts', 'grants', '--patient', f.access.patient.address);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`3 grant(s) of ${f.access.patient.address}`);
    const bundle = JSON.parse(r.stdout) as { resourceType: string; type: string; entry: Array<{ resource: ConsentResource }> };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    valid(bundle);
    // The first grant to the clinic was replaced by the second: inactive, with no revocation named.
    const replaced = bundle.entry[0]!.resource;
    expect(replaced).toMatchObject({ status: 'inactive', provision: { class: [{ code: 'medications' }] } });
    expect(JSON.stringify(replaced.extension)).not.toContain('revocation');
    const byGrantee = new Map(bundle.entry.slice(1).map((e) => [e.resource.provision.actor![0]!.reference.identifier.value, e.resource]));
    for (const c of byGrantee.values()) valid(c);
    const toClinic = byGrantee.get(clinic.address.toLowerCase())!;
    expect(toClinic).toMatchObject({ status: 'active', scope: { coding: [{ code: 'patient-privacy' }] } });
    expect(toClinic.provision.class.map((c) => c.code)).toEqual(['labs']);
    expect(toClinic.patient.identifier.value).toBe(f.access.patient.address.toLowerCase());
    expect(byGrantee.get(insurer.address.toLowerCase())!.status).toBe('inactive');

    // The same from the patient's own key, as NDJSON.
    const nd = await consentry('receipts', 'grants', '--dev-account', '1', '--ndjson');
    expect(nd.status, nd.stderr).toBe(0);
    const lines = nd.stdout.trim().split('\n').map((l) => JSON.parse(l) as ConsentResource);
    expect(lines).toEqual(bundle.entry.map((e) => e.resource));
  });

  it("prints each logged release of the patient's records as an AuditEvent that checks against its root", async () => {
    const r = await consentry('receipts', 'releases', '--patient', f.access.patient.address, '--ndjson');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/receipts: \d+ release\(s\) of .* from 3 of 3 gateways/);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEventResource);
    // k = 2 of 3: at least two gateways released each read.
    expect(events.length).toBeGreaterThanOrEqual(2 * released.length);
    for (const e of events) {
      valid(e);
      expect(e).toMatchObject({ resourceType: 'AuditEvent', action: 'R', outcome: '0' });
      expect(e.agent.find((a) => a.requestor)!.who.identifier.value).toBe(clinic.address.toLowerCase());
      expect(verifyReleaseAuditEvent(e)).toBe(true);
    }
    expect(new Set(events.map((e) => e.source.observer.identifier.value)).size).toBeGreaterThanOrEqual(2);

    const other = await consentry('receipts', 'releases', '--patient', clinic.address);
    expect(other.status, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout)).toEqual({ resourceType: 'Bundle', type: 'collection', entry: [] });
  });

  it('explains bad usage and unknown enrollments in words', async () => {
    const none = await consentry('receipts');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('Say which receipts: enrollment <studyId>');
    const noParticipant = await consentry('receipts', 'enrollment', String(study));
    expect(noParticipant.status).toBe(2);
    expect(noParticipant.stderr).toContain('--participant');
    const nobody = await consentry('receipts', 'grants');
    expect(nobody.status).toBe(2);
    expect(nobody.stderr).toContain('Name the patient');
    const stranger = await consentry('receipts', 'enrollment', String(study), '--participant', clinic.address);
    expect(stranger.status).toBe(1);
    expect(stranger.stderr).toContain(`${clinic.address} has not enrolled in study #${study}`);
    for (const x of [none, noParticipant, nobody, stranger]) noStack(x);
  });
});
