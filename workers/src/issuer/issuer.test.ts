// The credential issuer over real HTTP on a real anvil chain with the contracts deployed: refused
// (403) until an issuer accreditor adds its leaf to IssuerRegistry, then it signs credentials from a
// synthetic patient's records (attributes as derived, for the given commitment, 365 days, verifying
// under its key); malformed FHIR, a malformed commitment, underivable records and bad HTTP are
// refused in words; an unreachable chain is a 503; removed from the tree, it refuses again. The
// process (main.ts) keeps its generated key in DATA_DIR (0600), takes ISSUER_PRIVATE_KEY instead
// when given, and logs no health data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployContracts, type DeployResult } from '../../../contracts/script/deploy.ts';
import { publicClientFor, walletClientFor } from '@consentry/sdk/clients';
import { REPO_ROOT } from '@consentry/sdk/config';
import { freePort } from '@consentry/sdk/net';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { synthesizeBundles } from '@consentry/sdk/synth/generate';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deriveAttributes } from '@consentry/sdk/zk/attributes';
import { addIssuer, removeIssuer, type ZkContext } from '@consentry/sdk/zk/chain';
import { issuerLeaf, verifyCredential, type Credential } from '@consentry/sdk/zk/credential';
import { identityCommitment, identitySecretFromSeed } from '@consentry/sdk/zk/identity';
import { FIELD } from '@consentry/sdk/zk/layout';
import { chainAccreditation, createIssuer } from './issuer.ts';
import { issuerKeyFile, loadIssuerKey } from './key.ts';
import { MAX_BODY, startIssuerServer, type IssuerServer } from './server.ts';

const CHAIN = 31337;
const DAY = 86_400;
let anvil: AnvilInstance;
let deployment: DeployResult;
let dir: string;
let server: IssuerServer;
let ctx: ZkContext;
let key: ReturnType<typeof loadIssuerKey>;

const bundle = synthesizeBundles({ patients: 1, seed: 'issuer-test' })[0]!;
const resources: FhirResource[] = bundle.entry.map((e) => e.resource);
const commitment = identityCommitment(identitySecretFromSeed(new TextEncoder().encode('issuer-test-patient-seed-0001')));

async function post(body: unknown, init: { contentType?: string; url?: string } = {}): Promise<{ status: number; body: { credential?: Credential; error?: { code: string; message: string } } }> {
  const res = await fetch(`${init.url ?? server.url}/credentials`, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as never };
}
/** The issuer secret kept in a DATA_DIR (what ISSUER_PRIVATE_KEY would hold). */
const secretOf = (dataDir: string): string => (JSON.parse(readFileSync(issuerKeyFile(dataDir), 'utf8')) as { privateKey: string }).privateKey;
const getIssuer = async (url = server.url) => {
  const res = await fetch(`${url}/issuer`);
  return { status: res.status, body: (await res.json()) as { publicKey: [string, string]; leaf: string; name: string; accredited: boolean; error?: { code: string; message: string } } };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-issuer-'));
  anvil = await startAnvil();
  deployment = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_ACCOUNTS[0]!.privateKey, chainId: CHAIN, deploymentsDir: dir });
  const c = deployment.contracts;
  ctx = {
    wallet: walletClientFor(anvil.rpcUrl, CHAIN, ANVIL_ACCOUNTS[0]!.privateKey),
    client: publicClientFor(anvil.rpcUrl, CHAIN),
    contracts: { IssuerRegistry: c.IssuerRegistry!.address, StudyRegistry: c.StudyRegistry!.address, EligibilityVerifier: c.EligibilityVerifier!.address },
  };
  key = loadIssuerKey({ dataDir: dir });
  const issuer = createIssuer({ key, name: 'Synthmoor Test Clinic', isAccredited: chainAccreditation({ rpcUrl: anvil.rpcUrl, chainId: CHAIN, registry: c.IssuerRegistry!.address }) });
  server = await startIssuerServer(issuer);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('issuer service (real HTTP, real chain)', () => {
  it('names its key and leaf, and refuses to sign (403) until an issuer accreditor adds it', async () => {
    const before = await getIssuer();
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      publicKey: [key.publicKey[0].toString(), key.publicKey[1].toString()],
      leaf: issuerLeaf(key.publicKey).toString(),
      name: 'Synthmoor Test Clinic',
      accredited: false,
    });
    const refused = await post({ resources, identityCommitment: commitment.toString() });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('NOT_ACCREDITED');
    expect(refused.body.error?.message).toMatch(/is not in the on-chain issuers tree/);

    const added = await addIssuer(ctx, key.publicKey);
    expect(added.leaf).toBe(issuerLeaf(key.publicKey));
    expect((await getIssuer()).body.accredited).toBe(true);
  });

  it('signs a credential from a synthetic patient\'s records: the derived attributes, the commitment, 365 days, under its key', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { status, body } = await post({ resources, identityCommitment: commitment.toString() });
    expect(status).toBe(200);
    const credential = body.credential!;
    expect(verifyCredential(credential)).toBe(true);
    expect(credential.attributes).toEqual(deriveAttributes(resources));
    expect(credential.attributes.conditions.length + Object.keys(credential.attributes.measures).length).toBeGreaterThan(0);
    expect(credential.identityCommitment).toBe(commitment.toString());
    expect(credential.issuer.publicKey).toEqual([key.publicKey[0].toString(), key.publicKey[1].toString()]);
    expect(credential.issuedAt).toBeGreaterThanOrEqual(before);
    expect(credential.issuedAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(credential.expiresAt - credential.issuedAt).toBe(365 * DAY);
  });

  it('takes a Bundle among the resources (opened as the records import does)', async () => {
    const { status, body } = await post({ resources: [bundle], identityCommitment: commitment.toString() });
    expect(status).toBe(200);
    expect(body.credential!.attributes).toEqual(deriveAttributes(resources));
  });

  it('refuses malformed FHIR (400) naming each resource and the reason', async () => {
    const broken = [resources[0], { resourceType: 'Observation', id: 'x1', valueQuantity: { value: 'high' } }, { resourceType: 'Nonsense', id: 'x2' }];
    const { status, body } = await post({ resources: broken, identityCommitment: commitment.toString() });
    expect(status).toBe(400);
    expect(body.error?.code).toBe('FHIR_INVALID');
    expect(body.error?.message).toMatch(/^2 resources are not valid FHIR R4: /);
    expect(body.error?.message).toMatch(/resources\[1\] \(Observation\): .*(status|code)/);
    expect(body.error?.message).toMatch(/resources\[2\] \(Nonsense\)/);
    for (const bad of [{ resources: 'all of them', identityCommitment: '1' }, { resources: [], identityCommitment: '1' }, { resources: [42], identityCommitment: '1' }]) {
      const r = await post(bad);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/^resources/) });
    }
  });

  it('refuses an identity commitment that is not a decimal field element (400)', async () => {
    for (const identityCommitment of ['0x1234', '-5', '12.5', '', '0', '007', 'abc', FIELD.toString(), 12345, null]) {
      const r = await post({ resources, identityCommitment });
      expect(r.status, String(identityCommitment)).toBe(400);
      expect(r.body.error?.code).toBe('BAD_REQUEST');
      expect(r.body.error?.message).toMatch(/^identityCommitment: /);
    }
    const extra = await post({ resources, identityCommitment: commitment.toString(), attributes: { sex: 'male' } });
    expect(extra.status).toBe(400);
    expect(extra.body.error?.message).toMatch(/attributes/);
  });

  it('refuses records no credential can be made from (422, in words)', async () => {
    const noPatient = await post({ resources: resources.filter((r) => r.resourceType !== 'Patient'), identityCommitment: commitment.toString() });
    expect(noPatient.status).toBe(422);
    expect(noPatient.body.error).toEqual({ code: 'ATTRIBUTES_INVALID', message: 'The records hold no Patient resource, so there is no birth date or sex to attest' });
    const partial = await post({ resources: [{ ...resources[0]!, birthDate: '1970' }], identityCommitment: commitment.toString() });
    expect(partial.status).toBe(422);
    expect(partial.body.error?.message).toMatch(/not a full date/);
  });

  it('HTTP: not JSON 400, another content type 415, over 8 MiB 413, an unknown path 404, CORS preflight 204', async () => {
    expect((await post('{"resources": [', {})).status).toBe(400);
    expect((await post(JSON.stringify({ resources, identityCommitment: '1' }), { contentType: 'text/plain' })).status).toBe(415);
    const huge = await post({ resources: [{ resourceType: 'Basic', text: 'x'.repeat(MAX_BODY) }], identityCommitment: '1' });
    expect(huge.status).toBe(413);
    expect(huge.body.error?.code).toBe('TOO_LARGE');
    const nowhere = await fetch(`${server.url}/credential`);
    expect(nowhere.status).toBe(404);
    const preflight = await fetch(`${server.url}/credentials`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('says so (503) when the chain cannot be read', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const issuer = createIssuer({ key, name: 'Offline clinic', isAccredited: chainAccreditation({ rpcUrl: dead, chainId: CHAIN, registry: deployment.contracts.IssuerRegistry!.address, retryCount: 0 }) });
    const offline = await startIssuerServer(issuer);
    try {
      const info = await getIssuer(offline.url);
      expect(info.status).toBe(503);
      expect(info.body.error?.code).toBe('CHAIN_UNAVAILABLE');
      const r = await post({ resources, identityCommitment: commitment.toString() }, { url: offline.url });
      expect(r.status).toBe(503);
      expect(r.body.error?.message).toMatch(/cannot read the issuers tree on chain/);
    } finally {
      await offline.close();
    }
  });

  it('main.ts: generates its key once in DATA_DIR (0600), takes ISSUER_PRIVATE_KEY instead when given, logs no health data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'consentry-issuer-proc-'));
    try {
      const first = await startProcess({ DATA_DIR: dataDir });
      const generated = loadIssuerKey({ dataDir });
      expect(statSync(issuerKeyFile(dataDir)).mode & 0o777).toBe(0o600);
      expect((await getIssuer(first.url)).body).toMatchObject({ leaf: issuerLeaf(generated.publicKey).toString(), name: 'Consentry local issuer', accredited: false });
      expect((await post({ resources, identityCommitment: commitment.toString() }, { url: first.url })).status).toBe(403);
      await first.stop();

      // The test clinic's key is accredited by the first test; on its own, this test accredits it.
      if (!(await getIssuer()).body.accredited) await addIssuer(ctx, key.publicKey);
      const fileBefore = readFileSync(issuerKeyFile(dataDir), 'utf8');
      const second = await startProcess({ DATA_DIR: dataDir, ISSUER_PRIVATE_KEY: secretOf(dir), ISSUER_VALIDITY_DAYS: '30' });
      expect((await getIssuer(second.url)).body).toMatchObject({ leaf: issuerLeaf(key.publicKey).toString(), accredited: true });
      const { status, body } = await post({ resources, identityCommitment: commitment.toString() }, { url: second.url });
      expect(status).toBe(200);
      expect(body.credential!.expiresAt - body.credential!.issuedAt).toBe(30 * DAY);
      const output = await second.stop();
      // The generated key stays as it was (the environment's key is not written anywhere).
      expect(readFileSync(issuerKeyFile(dataDir), 'utf8')).toBe(fileBefore);
      expect(output).toMatch(/"path":"\/credentials","status":200/);
      const a = body.credential!.attributes;
      for (const secret of [a.birthDate, commitment.toString(), ...a.conditions, key.privateKey.slice(2), secretOf(dir).slice(2)]) {
        expect(output).not.toContain(secret);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('refuses again (403) once removed from the tree', async () => {
    await removeIssuer(ctx, issuerLeaf(key.publicKey));
    expect((await getIssuer()).body.accredited).toBe(false);
    const r = await post({ resources, identityCommitment: commitment.toString() });
    expect(r.status).toBe(403);
  });
});

/** Runs workers/src/issuer/main.ts as `npm start` does, until it answers; `stop` returns its output. */
async function startProcess(env: Record<string, string>): Promise<{ url: string; stop(): Promise<string> }> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'workers/src/issuer/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, RPC_URL: anvil.rpcUrl, CHAIN_ID: String(CHAIN), DEPLOYMENTS_DIR: dir, ISSUER_PORT: String(port), LOG_LEVEL: 'info', ISSUER_PRIVATE_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ; ) {
    if (child.exitCode !== null) throw new Error(`the issuer exited at start-up (${child.exitCode}):\n${output}`);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`the issuer did not answer on ${url} within 60 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      return output;
    },
  };
}
