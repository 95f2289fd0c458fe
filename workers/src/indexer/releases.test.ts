// The release follower through real gateways (3 members, k = 2, anvil, the deployed contracts), on
// every store kind: a clinician's reads are logged by the gateways, followed into Release entities
// (pending first, then with root and proof once the gateways post), the chain indexer adds the
// LogRoots, and the sdk's access-log check over GraphQL proves every entry against the chain; an
// entry whose version is changed in the database is `altered`, and an entry deleted from it makes its
// root show `missing: 1`. A gateway that is down is retried while the others are followed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAccessLog, loadAccessLog } from '@consentry/sdk/access/access-log';
import { graphqlRequest } from '@consentry/sdk/graphql';
import { publicClientFor } from '@consentry/sdk/clients';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { PgStore } from '../db/pg-store.ts';
import { SqliteStore } from '../db/sqlite-store.ts';
import type { Store } from '../db/store.ts';
import { verifyLogEntry } from '../gateway/gateway.ts';
import { CHAIN, startAccessFixture, type AccessFixture, type Requester } from '../gateway/testing/fixture.ts';
import { loadEntityModels } from './entities.ts';
import { buildGraphQLSchema } from './graphql/schema.ts';
import { startGraphQLServer } from './graphql/server.ts';
import { createIndexer } from './indexer.ts';
import { createReleaseFollower, releaseId } from './releases.ts';
import { dropSchemas } from './testing/stores.ts';

const lab = { resourceType: 'Observation', id: 'hba1c-1', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] }, valueQuantity: { value: 7.2, unit: '%' } } as FhirResource;

/** A fresh store and a way to change its tables behind its back (what an attacker with the database could do). */
type Opened = { store: Store; exec(sql: string): Promise<void>; close(): Promise<void> };
type Kind = { name: string; open(): Promise<Opened> };

const kinds: Kind[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'consentry-releases-'));
      const file = join(dir, 'indexer.sqlite');
      const store = SqliteStore.open(file);
      return {
        store,
        async exec(sql) {
          const raw = new Database(file);
          raw.exec(sql);
          raw.close();
        },
        async close() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'pglite',
    async open() {
      const client = new PGlite();
      const store = await PgStore.fromPglite(client);
      return { store, exec: async (sql) => void (await client.exec(sql)), close: () => client.close() };
    },
  },
];
const url = process.env.TEST_DATABASE_URL;
if (url) {
  kinds.push({
    name: 'postgres',
    async open() {
      const schema = `test_${randomBytes(6).toString('hex')}`;
      const store = await PgStore.openPostgres(url, { schema });
      return {
        store,
        async exec(sql) {
          const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
          await client.connect();
          await client.query(sql).finally(() => client.end());
        },
        async close() {
          await store.close();
          await dropSchemas(url, [schema]);
        },
      };
    },
  });
}

let f: AccessFixture;
let clinic: Requester;
let labId: Hex;
const committee = () => f.deployment.contracts.ReleaseCommittee!.address;
const client = () => publicClientFor(f.anvil.rpcUrl, CHAIN);

beforeAll(async () => {
  f = await startAccessFixture([lab]);
  labId = (await f.records.list()).find((r) => r.category === 'labs')!.recordId;
  clinic = await f.organization(0);
  await f.grant(clinic, ['labs'], ['labs'], 7);
}, 180_000);

afterAll(async () => {
  await f?.close();
});

async function serve(store: Store) {
  const indexer = createIndexer({ rpcUrl: f.anvil.rpcUrl, deployment: f.deployment, store, confirmations: 0 });
  await indexer.syncToHead();
  const schema = buildGraphQLSchema({
    models: loadEntityModels().models,
    store,
    meta: () => ({ checkpoint: indexer.status().checkpoint, hasIndexingErrors: false, deployment: 'test' }),
  });
  return { indexer, server: await startGraphQLServer({ schema, port: 0, health: () => ({}) }) };
}

describe.each(kinds)('release follower on $name', (kind) => {
  it('follows every gateway\'s log, proves every entry, and flags an altered and a missing entry', async () => {
    const { store, exec, close } = await kind.open();
    try {
      const got = await f.fetchKey(clinic, labId);
      expect(got.releasedBy.length).toBeGreaterThanOrEqual(2);
      const follower = createReleaseFollower({ store, gateways: f.refs.map((r) => r.url), pageSize: 2 });

      // Before the roots are posted: every entry is there, the newest ones without root.
      let status = await follower.syncOnce();
      expect(status.map((s) => [s.failures, s.member])).toEqual(f.refs.map((r) => [0, r.member.toLowerCase()]));
      const logs = f.gateways.map((g) => g.log());
      const total = logs.reduce((n, l) => n + l.length, 0);
      expect(await store.count('Release')).toBe(total);
      for (const [i, log] of logs.entries()) {
        const last = log[log.length - 1]!;
        const row = await store.findById('Release', releaseId(f.refs[i]!.member, last.seq));
        expect(row).toMatchObject({ entryId: last.id, version: last.version, category: 'labs', releasedAt: BigInt(last.releasedAt) });
        if (last.batchRoot === null) expect(row).toMatchObject({ batchRoot: null, proof: null });
      }

      // The gateways post; the follower picks roots and proofs up; the chain indexer the LogRoots.
      for (const g of f.gateways) await g.postLogRoots();
      status = await follower.syncOnce();
      expect(status.every((s) => s.failures === 0)).toBe(true);
      const rows = await store.findMany('Release', { first: 1000, skip: 0 });
      expect(rows).toHaveLength(total);
      expect(rows.filter((r) => r.batchRoot === null || r.proof === null)).toEqual([]);
      const { indexer, server } = await serve(store);
      try {
        const patient = f.patient.address;
        const loaded = await loadAccessLog(server.url, patient);
        expect(loaded.releases).toHaveLength(total);
        for (const r of loaded.releases) expect(verifyLogEntry({ ...r, id: r.entryId, releasedAt: Number(r.releasedAt) }, r.batchRoot as Hex, r.proof as Hex[])).toBe(true);
        const proven = await checkAccessLog({ ...loaded, client: client(), committee: committee() });
        expect(proven.summary).toEqual({ proven: total, pending: 0, altered: 0, missing: 0 });
        expect(proven.roots.every((r) => r.postedOnChain && r.missing === 0 && r.count === r.held)).toBe(true);
        const newest = proven.reads[0]!;
        expect(newest).toMatchObject({ requester: clinic.address, recordId: labId, version: 1, category: 'labs', status: 'proven' });
        expect(newest.members.length).toBeGreaterThanOrEqual(got.releasedBy.length);

        // GraphQL: by requester, ordered by releasedAt.
        const byRequester = await graphqlRequest<{ releases: Array<{ releasedAt: string; requester: string; proof: string[] }> }>(
          server.url,
          `query ($r: Bytes!) { releases(where: { requester: $r }, orderBy: releasedAt, orderDirection: asc) { releasedAt requester proof } }`,
          { r: clinic.address },
        );
        expect(byRequester.releases).toHaveLength(total);
        const times = byRequester.releases.map((r) => BigInt(r.releasedAt));
        expect(times).toEqual([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));

        // An entry changed in the database no longer matches its root.
        const [victim, other] = loaded.releases;
        await exec(`UPDATE "release" SET version = 2 WHERE id = '${victim!.id}'`);
        const altered = await checkAccessLog({ ...(await loadAccessLog(server.url, patient)), client: client(), committee: committee() });
        expect(altered.entries.find((e) => e.id === victim!.id)).toMatchObject({ status: 'altered', version: 2 });
        expect(altered.summary.altered).toBe(1);

        // An entry deleted from the database: its root holds one entry fewer than the member posted.
        await exec(`DELETE FROM "release" WHERE id = '${other!.id}'`);
        const missing = await checkAccessLog({ ...(await loadAccessLog(server.url, patient)), client: client(), committee: committee() });
        const root = missing.roots.find((r) => r.root === other!.batchRoot && r.member.toLowerCase() === other!.member);
        expect(root).toMatchObject({ missing: 1 });
        expect(missing.summary.missing).toBe(1);
      } finally {
        await server.close();
        await indexer.stop();
      }
    } finally {
      await close();
    }
  }, 120_000);
});

describe('release follower with a gateway down', () => {
  it('logs it, retries with backoff, follows the others, and catches up when it is back', async () => {
    const { store, close } = await kinds[0]!.open();
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? '') };
    try {
      const follower = createReleaseFollower({ store, gateways: f.refs.map((r) => r.url), logger, pollIntervalMs: 20, timeoutMs: 2000 });
      await follower.syncOnce();
      const port = Number(new URL(f.refs[1]!.url).port);
      await f.stopGateway(1);
      await f.fetchKey(clinic, labId, [f.refs[0]!, f.refs[2]!]);
      const status = await follower.syncOnce();
      expect(status[1]).toMatchObject({ failures: 1, lastError: expect.stringMatching(/gateway at http:\/\/127\.0\.0\.1:\d+ is unreachable/) });
      expect(status[0]!.failures + status[2]!.failures).toBe(0);
      expect(warnings.some((w) => /release log not read/.test(w))).toBe(true);
      for (const i of [0, 2]) expect((await store.releaseCursor(f.refs[i]!.url))!.lastSeq).toBe(f.gateways[i]!.log().at(-1)!.seq);

      await f.openGateway(1, port);
      follower.start();
      await expect.poll(() => follower.status()[1]!.failures, { timeout: 10_000 }).toBe(0);
      await follower.stop();
      expect(await store.count('Release')).toBe(f.gateways.reduce((n, g) => n + g.log().length, 0));
    } finally {
      await close();
    }
  }, 60_000);
});
