// The notifier against a real anvil with the access contracts, the embedded indexer and its GraphQL
// server, and a real loopback HTTP receiver, with the notifier's tables on SQLite and on PGlite: a
// patient's request, approval, denial, break-glass and revocation arrive once each, signed with the
// patient's secret and without health data; a receiver that is down gets the delivery on retry once
// it is up; clearing the webhook stops deliveries; events before the webhook are not sent. The
// sdk's inbox (sdk/src/access/inbox.ts) over the same index lists them newest first. A guardian
// recovery of a patient's account reaches the account's webhook as it starts, reaches its quorum, is
// cancelled, and again when a second one moves the account to a new wallet.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { keccak256, toHex, type Abi, type Address, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessGrantsAbi, organizationRegistryAbi, patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { walletClientFor } from '@consentry/sdk/clients';
import { freePort } from '@consentry/sdk/net';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { SqliteStore } from '../db/sqlite-store.ts';
import { loadEntityModels } from '../indexer/entities.ts';
import { buildGraphQLSchema } from '../indexer/graphql/schema.ts';
import { startGraphQLServer, type GraphQLServer } from '../indexer/graphql/server.ts';
import { createIndexer, type Indexer } from '../indexer/indexer.ts';
import { startTestChain, testKey, type TestChain } from '../indexer/testing/chain.ts';
import { loadInbox } from '@consentry/sdk/access/inbox';
import { createNotifier, SIGNATURE_HEADER, type WebhookBody } from './notifier.ts';
import { NotifyStore } from './store.ts';

const admin = ANVIL_ACCOUNTS[0]!;
const clinic = ANVIL_ACCOUNTS[2]!;
const emergency = ANVIL_ACCOUNTS[3]!;
const label = (text: string): Hex => keccak256(toHex(`notify-test:${text}`));

let chain: TestChain;
let deployment: Awaited<ReturnType<TestChain['deploy']>>;
let indexer: Indexer;
let graphql: GraphQLServer;
let dir: string;

async function send(from: Hex, address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Promise<bigint> {
  const wallet = walletClientFor(chain.rpcUrl, 31337, from);
  const hash = await wallet.writeContract({ address, abi, functionName, args, gas: 1_000_000n } as Parameters<typeof wallet.writeContract>[0]);
  const receipt = await chain.client.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`${functionName} reverted`);
  return receipt.blockNumber;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'consentry-notify-'));
  chain = await startTestChain();
  deployment = await chain.deploy();
  const c = deployment.contracts;
  const now = Number((await chain.client.getBlock()).timestamp);
  await send(clinic.privateKey, c.OrganizationRegistry!.address, organizationRegistryAbi, 'register', [0, label('clinic'), label('m')]);
  await send(emergency.privateKey, c.OrganizationRegistry!.address, organizationRegistryAbi, 'register', [1, label('er'), label('m')]);
  for (const org of [clinic, emergency]) {
    await send(admin.privateKey, c.OrganizationRegistry!.address, organizationRegistryAbi, 'accredit', [org.address, BigInt(now + 86_400 * 30)]);
  }
  const store = SqliteStore.open(join(dir, 'indexer.sqlite'));
  indexer = createIndexer({ rpcUrl: chain.rpcUrl, deployment, store, confirmations: 0, pollIntervalMs: 50 });
  const schema = buildGraphQLSchema({
    models: loadEntityModels().models,
    store,
    meta: () => ({ checkpoint: indexer.status().checkpoint, hasIndexingErrors: false, deployment: 'test' }),
  });
  graphql = await startGraphQLServer({ schema, port: 0, health: () => ({}) });
  indexer.start();
}, 90_000);

afterAll(async () => {
  await indexer?.stop();
  await graphql?.close();
  await chain?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Received = { body: string; headers: IncomingMessage['headers'] };

/** A loopback receiver on `port` that records what it gets. */
async function receiver(port: number): Promise<{ got: Received[]; server: Server; close(): Promise<void> }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { got, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function verifies(secret: string, r: Received): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`);
  const given = Buffer.from(String(r.headers[SIGNATURE_HEADER]));
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const storeKinds = [
  { name: 'sqlite', open: () => NotifyStore.open({ dataDir: mkdtempSync(join(dir, 'n-')) }) },
  { name: 'pglite', open: () => NotifyStore.open({ pglite: new PGlite() }) },
];

describe.each(storeKinds)('notifier with its tables on $name', (kind) => {
  it('delivers each access event once, signed, and retries a receiver that was down', async () => {
    const c = deployment.contracts;
    const grants = c.AccessGrants!.address;
    const patient = ANVIL_ACCOUNTS[kind.name === 'sqlite' ? 5 : 6]!;
    const other = ANVIL_ACCOUNTS[kind.name === 'sqlite' ? 7 : 8]!;
    const requests = async () => (await chain.client.readContract({ address: grants, abi: accessGrantsAbi, functionName: 'requestCount' })) as bigint;
    await send(patient.privateKey, c.PatientRegistry.address, patientRegistryAbi, 'register', [testKey(`notify:${kind.name}:p`)]);
    await send(other.privateKey, c.PatientRegistry.address, patientRegistryAbi, 'register', [testKey(`notify:${kind.name}:o`)]);
    // Before the webhook: not delivered.
    await send(clinic.privateKey, grants, accessGrantsAbi, 'requestAccess', [patient.address, 0x0001, 0, 86_400]);

    const store = await kind.open();
    const port = await freePort();
    const { secret } = await store.setWebhook(patient.address, `http://127.0.0.1:${port}/hook?token=abc`, Number(await chain.client.getBlockNumber()));
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? '') };
    const notifier = createNotifier({ store, graphqlUrl: graphql.url, pollIntervalMs: 50, retryBaseMs: 200, maxRetryMs: 400, timeoutMs: 2000, logger });
    notifier.start();
    const rx = await receiver(port);
    try {
      await send(clinic.privateKey, grants, accessGrantsAbi, 'requestAccess', [patient.address, 0x0005, 0, 86_400]);
      const approved = await requests();
      await send(patient.privateKey, grants, accessGrantsAbi, 'approve', [approved, 0x0001, 3_600]);
      await send(clinic.privateKey, grants, accessGrantsAbi, 'requestAccess', [patient.address, 0x0002, 0, 86_400]);
      await send(patient.privateKey, grants, accessGrantsAbi, 'deny', [await requests()]);
      await send(emergency.privateKey, grants, accessGrantsAbi, 'breakGlass', [patient.address, label('er-visit'), 3_600]);
      await send(patient.privateKey, grants, accessGrantsAbi, 'revoke', [clinic.address]);
      // Another patient's event, no webhook: nothing.
      await send(clinic.privateKey, grants, accessGrantsAbi, 'requestAccess', [other.address, 0x0001, 0, 86_400]);

      const kinds = ['REQUEST_CREATED', 'REQUEST_APPROVED', 'REQUEST_CREATED', 'REQUEST_DENIED', 'BREAK_GLASS_OPENED', 'GRANT_REVOKED'];
      await expect.poll(() => rx.got.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(kinds.length);
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive in this time
      const bodies = rx.got.map((r) => JSON.parse(r.body) as WebhookBody);
      expect(bodies.map((b) => b.kind).sort()).toEqual([...kinds].sort());
      expect(new Set(bodies.map((b) => b.eventId)).size).toBe(kinds.length);
      for (const r of rx.got) {
        expect(verifies(secret, r)).toBe(true);
        expect(r.headers['content-type']).toBe('application/json');
      }
      expect(verifies('0'.repeat(64), rx.got[0]!)).toBe(false);
      const approval = bodies.find((b) => b.kind === 'REQUEST_APPROVED')!;
      expect(approval).toMatchObject({
        patient: patient.address.toLowerCase(),
        organization: clinic.address.toLowerCase(),
        requestId: String(approved),
        categories: ['labs'],
        purpose: 0,
        transactionHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      });
      expect(Object.keys(approval).sort()).toEqual(['actor', 'at', 'blockNumber', 'categories', 'eventId', 'expiresAt', 'kind', 'organization', 'patient', 'purpose', 'requestId', 'transactionHash']);
      expect(bodies.find((b) => b.kind === 'BREAK_GLASS_OPENED')).toMatchObject({ organization: emergency.address.toLowerCase(), requestId: null, expiresAt: expect.stringMatching(/^\d+$/) });
      expect((await store.deliveries(patient.address)).every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);

      // The inbox the web shows: newest first, and the request sent before the webhook still pending.
      const inbox = await loadInbox(graphql.url, patient.address);
      expect(inbox.events.map((e) => e.kind)).toEqual([...kinds].reverse().concat('REQUEST_CREATED'));
      expect(inbox.events[0]).toMatchObject({ kind: 'GRANT_REVOKED', organization: clinic.address.toLowerCase(), actor: patient.address.toLowerCase(), requestId: approved });
      expect(inbox.events.find((e) => e.kind === 'REQUEST_APPROVED')).toMatchObject({ categories: ['labs'], expiresAt: expect.any(Number) });
      expect(inbox.pending).toEqual([expect.objectContaining({ requestId: approved - 1n, requester: clinic.address.toLowerCase(), categories: ['labs'], duration: 86_400 })]);

      // The receiver goes down: the next event is retried until it is back.
      await rx.close();
      await send(clinic.privateKey, grants, accessGrantsAbi, 'requestAccess', [patient.address, 0x0001, 0, 86_400]);
      await expect.poll(async () => (await store.deliveries(patient.address))[0]!.attempts, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
      const waiting = (await store.deliveries(patient.address))[0]!;
      expect(waiting).toMatchObject({ status: 'pending', kind: 'REQUEST_CREATED', lastError: 'The receiver is unreachable' });
      expect(warnings.some((w) => /webhook delivery failed, retrying/.test(w))).toBe(true);
      const back = await receiver(port);
      try {
        await expect.poll(() => back.got.length, { timeout: 10_000 }).toBe(1);
        expect(verifies(secret, back.got[0]!)).toBe(true);
        expect((JSON.parse(back.got[0]!.body) as WebhookBody).eventId).toBe(waiting.eventId);
        await expect.poll(async () => (await store.deliveries(patient.address))[0]!.status, { timeout: 5_000 }).toBe('delivered');

        // Cleared: nothing more is sent.
        expect(await store.clearWebhook(patient.address)).toBe(true);
        await send(clinic.privateKey, grants, accessGrantsAbi, 'requestAccess', [patient.address, 0x0001, 0, 86_400]);
        await new Promise((r) => setTimeout(r, 1_000));
        expect(back.got).toHaveLength(1);
        expect(await store.webhook(patient.address)).toBeNull();
      } finally {
        await back.close();
      }
    } finally {
      await notifier.stop();
      await store.close();
    }
  }, 90_000);
});

describe('notifier and guardian recovery', () => {
  it("delivers the account's guardian and recovery events to its webhook, RECOVERY_STARTED first of all", async () => {
    const registry = deployment.contracts.PatientRegistry.address;
    const [account, guardian, wallet] = [ANVIL_ACCOUNTS[1]!, ANVIL_ACCOUNTS[4]!, ANVIL_ACCOUNTS[9]!];
    // The clinic is the second guardian (a patient may name their clinic).
    const guardians = [guardian.address, clinic.address];
    await send(account.privateKey, registry, patientRegistryAbi, 'register', [testKey('notify:recovery:account')]);
    await send(account.privateKey, registry, patientRegistryAbi, 'setGuardians', [guardians, 2, 86_400]);

    const store = await NotifyStore.open({ dataDir: mkdtempSync(join(dir, 'n-')) });
    const port = await freePort();
    const { secret } = await store.setWebhook(account.address, `http://127.0.0.1:${port}/hook`, Number(await chain.client.getBlockNumber()));
    const notifier = createNotifier({ store, graphqlUrl: graphql.url, pollIntervalMs: 50, retryBaseMs: 200, maxRetryMs: 400, timeoutMs: 2000 });
    notifier.start();
    const rx = await receiver(port);
    // Deliveries due together go out concurrently: order what arrived as the chain did.
    const logIndex = (b: WebhookBody) => parseInt(b.eventId.slice(-8), 16);
    const bodies = () =>
      rx.got.map((r) => JSON.parse(r.body) as WebhookBody).sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber) || logIndex(a) - logIndex(b));
    try {
      await send(guardian.privateKey, registry, patientRegistryAbi, 'startRecovery', [account.address, wallet.address, testKey('notify:recovery:w')]);
      await expect.poll(() => bodies().map((b) => b.kind), { timeout: 20_000 }).toEqual(['RECOVERY_STARTED']);
      expect(verifies(secret, rx.got[0]!)).toBe(true);
      expect(rx.got[0]!.headers['x-consentry-event']).toBe('RECOVERY_STARTED');
      expect(bodies()[0]).toMatchObject({
        patient: account.address.toLowerCase(),
        organization: wallet.address.toLowerCase(),
        actor: guardian.address.toLowerCase(),
        requestId: '1',
        categories: null,
        purpose: null,
        expiresAt: null,
      });

      // The second guardian approves (the quorum: ready after the delay), and the account cancels.
      await send(clinic.privateKey, registry, patientRegistryAbi, 'approveRecovery', [account.address, 1n]);
      const recovery = await chain.client.readContract({ address: registry, abi: patientRegistryAbi, functionName: 'recoveryOf', args: [account.address] });
      await send(account.privateKey, registry, patientRegistryAbi, 'cancelRecovery', []);
      const first = ['RECOVERY_STARTED', 'RECOVERY_APPROVED', 'RECOVERY_READY', 'RECOVERY_CANCELLED'];
      await expect.poll(() => bodies().map((b) => b.kind), { timeout: 20_000 }).toEqual(first);
      expect(bodies()[2]).toMatchObject({ requestId: '1', expiresAt: String(recovery.readyAt) });
      expect(bodies()[3]).toMatchObject({ requestId: '1', actor: account.address.toLowerCase() });

      // A second recovery completes after the delay: the account's webhook still hears of it.
      await send(guardian.privateKey, registry, patientRegistryAbi, 'startRecovery', [account.address, wallet.address, testKey('notify:recovery:w')]);
      await send(clinic.privateKey, registry, patientRegistryAbi, 'approveRecovery', [account.address, 2n]);
      await chain.client.request({ method: 'evm_increaseTime' as never, params: [86_401] as never });
      await send(admin.privateKey, registry, patientRegistryAbi, 'completeRecovery', [account.address]);
      const all = [...first, 'RECOVERY_STARTED', 'RECOVERY_APPROVED', 'RECOVERY_READY', 'ACCOUNT_RECOVERED'];
      await expect.poll(() => bodies().map((b) => b.kind), { timeout: 20_000 }).toEqual(all);
      expect(bodies().at(-1)).toMatchObject({ requestId: '2', organization: wallet.address.toLowerCase(), actor: account.address.toLowerCase() });
      expect(rx.got.every((r) => verifies(secret, r))).toBe(true);
      expect(new Set(bodies().map((b) => b.eventId)).size).toBe(all.length);
    } finally {
      await notifier.stop();
      await rx.close();
      await store.close();
    }
  }, 90_000);
});
