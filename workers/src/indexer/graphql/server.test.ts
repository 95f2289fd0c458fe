// The GraphQL API over HTTP, on an index of a real chain history, for every store kind.
import { graphqlRequest } from '@consentry/sdk/graphql';
import { getAddress, type Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../db/store.ts';
import { dumpEntities, type EntityDump } from '../dump.ts';
import { loadEntityModels } from '../entities.ts';
import { createIndexer } from '../indexer.ts';
import { mineScript, startTestChain, testKey, testPatient, type TestChain } from '../testing/chain.ts';
import { storeKinds } from '../testing/stores.ts';
import { buildGraphQLSchema, pluralName } from './schema.ts';
import { startGraphQLServer, type GraphQLServer } from './server.ts';

let chain: TestChain;

beforeAll(async () => {
  chain = await startTestChain();
}, 30_000);

afterAll(async () => {
  await chain?.stop();
});

type Body = { data?: Record<string, unknown> | null; errors?: Array<{ message: string }> };

describe.each(storeKinds())('GraphQL on $name', (kind) => {
  let store: Store;
  let server: GraphQLServer;
  let dump: EntityDump;
  let registry: Address;
  let hasErrors = false;
  const patients = Array.from({ length: 6 }, (_, i) => testPatient(`gql-${kind.name}-${i}`));

  async function post(query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: Body }> {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as Body };
  }

  async function data<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const { status, body } = await post(query, variables);
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    return body.data as T;
  }

  beforeAll(async () => {
    const deployment = await chain.deploy();
    registry = deployment.contracts.PatientRegistry.address;
    await mineScript(chain, registry, [
      patients.slice(0, 3).map((p, i) => ({ kind: 'register', patient: p, key: testKey(`gql-${kind.name}-${i}`) })),
      patients.slice(3).map((p, i) => ({ kind: 'register', patient: p, key: testKey(`gql-${kind.name}-${3 + i}`) })),
      [
        { kind: 'rotate', patient: patients[0]!, key: testKey(`gql-${kind.name}-r0`) },
        { kind: 'rotate', patient: patients[4]!, key: testKey(`gql-${kind.name}-r4`) },
      ],
      [{ kind: 'rotate', patient: patients[0]!, key: testKey(`gql-${kind.name}-r0b`) }],
    ]);
    store = await kind.open();
    const indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0 });
    await indexer.syncToHead();
    dump = await dumpEntities(store);
    const { models } = loadEntityModels();
    const schema = buildGraphQLSchema({
      models,
      store,
      meta: () => ({ checkpoint: indexer.status().checkpoint, hasIndexingErrors: hasErrors, deployment: registry.toLowerCase() }),
    });
    server = await startGraphQLServer({
      schema,
      port: 0,
      maxBodyBytes: 4096,
      health: () => ({ status: 'ok', checkpoint: indexer.status().checkpoint?.number ?? null }),
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await store?.close();
    await kind.cleanup();
  });

  it('looks an entity up by id (any hex case), with Bytes as lowercase hex, BigInt as strings, Int as numbers', async () => {
    const id = getAddress(patients[0]!); // checksummed: mixed case
    const { patient } = await data<{ patient: Record<string, unknown> }>(
      `query ($id: ID!) { patient(id: $id) { id controller encryptionKey keyRotations registeredAtBlock registeredAtTimestamp updatedAtBlock updatedAtTimestamp } }`,
      { id },
    );
    expect(patient).toEqual(dump.Patient.find((p) => p.id === id.toLowerCase()));
    expect(patient.keyRotations).toBe(2);
    expect(typeof patient.registeredAtBlock).toBe('string');
    const missing = await data<{ patient: null }>(`{ patient(id: "0x${'00'.repeat(20)}") { id } }`);
    expect(missing.patient).toBeNull();
  });

  it('lists with first, skip, orderBy and orderDirection (first defaults to 100)', async () => {
    const all = await data<{ patients: Array<{ id: string }> }>(`{ patients { id } }`);
    expect(all.patients.map((p) => p.id)).toEqual(dump.Patient.map((p) => p.id)); // by id by default
    const byBlock = [...dump.Patient].sort(
      (a, b) => Number(b.registeredAtBlock) - Number(a.registeredAtBlock) || (String(a.id) < String(b.id) ? -1 : 1),
    );
    const page = await data<{ patients: Array<{ id: string }> }>(
      `{ patients(first: 3, skip: 1, orderBy: registeredAtBlock, orderDirection: desc) { id } }`,
    );
    expect(page.patients.map((p) => p.id)).toEqual(byBlock.slice(1, 4).map((p) => p.id));
    const events = await data<{ encryptionKeyRotateds: Array<{ id: string }> }>(
      `{ encryptionKeyRotateds(orderBy: blockNumber, orderDirection: asc, first: 1) { id } }`,
    );
    expect(events.encryptionKeyRotateds).toHaveLength(1);
    expect(pluralName('PatientRegistered')).toBe('patientRegistereds');
  });

  it('filters with where: equality, _not, _gt/_gte/_lt/_lte, _in/_not_in, references, and/or', async () => {
    const q = async (where: string) =>
      (await data<{ patients: Array<{ id: string }> }>(`{ patients(where: ${where}) { id } }`)).patients.map((p) => p.id);
    const ids = (pred: (p: EntityDump['Patient'][number]) => boolean) => dump.Patient.filter(pred).map((p) => p.id);
    expect(await q(`{ keyRotations: 1 }`)).toEqual(ids((p) => p.keyRotations === 1));
    expect(await q(`{ keyRotations_not: 0 }`)).toEqual(ids((p) => p.keyRotations !== 0));
    expect(await q(`{ keyRotations_gt: 0 }`)).toHaveLength(2);
    expect(await q(`{ keyRotations_gte: 2 }`)).toEqual([patients[0]!.toLowerCase()]);
    const secondBlock = dump.Patient.map((p) => Number(p.registeredAtBlock)).sort((a, b) => b - a)[0]!;
    expect(await q(`{ registeredAtBlock_lt: "${secondBlock}" }`)).toHaveLength(3);
    expect(await q(`{ registeredAtBlock_lte: "${secondBlock}" }`)).toHaveLength(6);
    const two = [patients[1]!, patients[5]!].map((p) => getAddress(p));
    expect(await q(`{ id_in: ["${two[0]}", "${two[1]}"] }`)).toEqual(two.map((p) => p.toLowerCase()).sort());
    expect(await q(`{ id_not_in: ["${two[0]}"] }`)).toHaveLength(5);
    expect(await q(`{ or: [{ keyRotations: 2 }, { id: "${two[0]}" }] }`)).toEqual(
      [patients[0]!, patients[1]!].map((p) => p.toLowerCase()).sort(),
    );
    expect(await q(`{ and: [{ keyRotations_gt: 0 }, { keyRotations_lt: 2 }] }`)).toEqual([patients[4]!.toLowerCase()]);
    // A reference is filtered by the referenced id (a String, as in graph-node), any case.
    const rotated = await data<{ encryptionKeyRotateds: Array<{ newKey: string }> }>(
      `query ($p: String) { encryptionKeyRotateds(where: { patient: $p }, orderBy: blockNumber) { newKey } }`,
      { p: getAddress(patients[0]!) },
    );
    expect(rotated.encryptionKeyRotateds.map((e) => e.newKey)).toEqual([
      testKey(`gql-${kind.name}-r0`),
      testKey(`gql-${kind.name}-r0b`),
    ]);
  });

  it('resolves references and @derivedFrom lists', async () => {
    const { patient } = await data<{
      patient: { registeredEvents: Array<{ encryptionKey: string; patient: { id: string } }>; keyRotatedEvents: Array<{ newKey: string }> };
    }>(
      `query ($id: ID!) { patient(id: $id) {
          registeredEvents { encryptionKey patient { id } }
          keyRotatedEvents(orderBy: blockNumber, orderDirection: desc) { newKey }
        } }`,
      { id: patients[0]! },
    );
    expect(patient.registeredEvents).toEqual([
      { encryptionKey: testKey(`gql-${kind.name}-0`), patient: { id: patients[0]!.toLowerCase() } },
    ]);
    expect(patient.keyRotatedEvents.map((e) => e.newKey)).toEqual([testKey(`gql-${kind.name}-r0b`), testKey(`gql-${kind.name}-r0`)]);
  });

  it('answers _meta like graph-node', async () => {
    const { _meta } = await data<{ _meta: { block: { number: number; hash: string }; hasIndexingErrors: boolean; deployment: string } }>(
      `{ _meta { block { number hash } hasIndexingErrors deployment } }`,
    );
    const head = await chain.client.getBlock();
    expect(_meta.block.number).toBe(Number(head.number));
    expect(_meta.block.hash).toBe(head.hash);
    expect(_meta.hasIndexingErrors).toBe(false);
    expect(_meta.deployment).toBe(registry.toLowerCase());
    hasErrors = true;
    expect((await data<{ _meta: { hasIndexingErrors: boolean } }>(`{ _meta { hasIndexingErrors } }`))._meta.hasIndexingErrors).toBe(true);
    hasErrors = false;
    const ahead = await post(`{ patients(block: { number_gte: ${Number(head.number) + 10} }) { id } }`);
    expect(ahead.body.errors?.[0]?.message).toMatch(/only indexed up to block number/);
  });

  it('serves GET ?query=, CORS, /health, and the sdk client', async () => {
    const url = `${server.url}?query=${encodeURIComponent('{ patients(first: 1) { id } }')}`;
    const res = await fetch(url, { headers: { origin: 'http://localhost:3000' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(((await res.json()) as Body).data).toEqual({ patients: [{ id: dump.Patient[0]!.id }] });
    const preflight = await fetch(server.url, { method: 'OPTIONS', headers: { origin: 'http://x', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const health = await fetch(server.url.replace('/graphql', '/health'));
    expect(await health.json()).toMatchObject({ status: 'ok', checkpoint: Number(await chain.client.getBlockNumber()) });
    const viaSdk = await graphqlRequest<{ patient: { keyRotations: number } }>(server.url, `query ($id: ID!) { patient(id: $id) { keyRotations } }`, {
      id: patients[4]!,
    });
    expect(viaSdk.patient.keyRotations).toBe(1);
  });

  it('answers bad requests with clear JSON errors', async () => {
    const syntax = await post(`{ patients { id }`);
    expect(syntax.status).toBe(400);
    expect(syntax.body.errors?.[0]?.message).toMatch(/Syntax Error/);
    const unknown = await post(`{ patients { name } }`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.[0]?.message).toMatch(/Cannot query field "name" on type "Patient"/);
    const tooMany = await post(`{ patients(first: 5000) { id } }`);
    expect(tooMany.body.errors?.[0]?.message).toMatch(/`first` argument must be between 0 and 1000/);
    const badBytes = await post(`{ patients(where: { id: "0xabc" }) { id } }`);
    expect(badBytes.status).toBe(400);
    expect(badBytes.body.errors?.[0]?.message).toMatch(/hex/);
    const badVariable = await post(`query ($n: Int) { patients(first: $n) { id } }`, { n: 'many' });
    expect(badVariable.status).toBe(400);
    expect(badVariable.body.errors?.[0]?.message).toMatch(/\$n/);
    let nested = 'id';
    for (let i = 0; i < 6; i++) nested = `registeredEvents { patient { ${nested} } }`;
    const deep = await post(`{ patients { ${nested} } }`);
    expect(deep.status).toBe(400);
    expect(deep.body.errors?.[0]?.message).toMatch(/nested more than/);
    const notJson = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as Body).errors?.[0]?.message).toMatch(/not valid JSON/);
    const noQuery = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noQuery.status).toBe(400);
    expect(((await noQuery.json()) as Body).errors?.[0]?.message).toMatch(/query/);
    const big = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ patients { id } }`, variables: { pad: 'x'.repeat(10_000) } }),
    });
    expect(big.status).toBe(413);
    const form = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(form.status).toBe(415);
    const elsewhere = await fetch(server.url.replace('/graphql', '/nope'));
    expect(elsewhere.status).toBe(404);
  });
});
