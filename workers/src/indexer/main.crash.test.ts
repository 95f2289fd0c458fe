// The indexer service as a real process (main.ts), killed with SIGKILL in the middle of a backlog
// and restarted: nothing is lost or doubled, and it resumes from its checkpoint. Every store kind.
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpEntities } from './dump.ts';
import { mineScript, startTestChain, testKey, testPatient, type ScriptedTx, type TestChain } from './testing/chain.ts';
import { expectedDump } from './testing/expected.ts';
import { health, killServices, startService } from './testing/service.ts';
import { openFromEnv, storeKinds } from './testing/stores.ts';

let chain: TestChain;

beforeAll(async () => {
  chain = await startTestChain();
}, 30_000);

afterAll(async () => {
  killServices();
  await chain?.stop();
});

describe.each(storeKinds())('indexer service on $name', (kind) => {
  let deployment: Awaited<ReturnType<TestChain['deploy']>>;
  let registry: Address;
  let head: number;

  beforeAll(async () => {
    deployment = await chain.deploy();
    registry = deployment.contracts.PatientRegistry.address;
    // A backlog of 100 blocks: 60 of 10 registrations, then 40 of 10 key rotations.
    const patients = Array.from({ length: 600 }, (_, i) => testPatient(`crash-${kind.name}-${i}`));
    const blocks: ScriptedTx[][] = [];
    for (let b = 0; b < 60; b++) {
      blocks.push(patients.slice(b * 10, b * 10 + 10).map((p, i) => ({ kind: 'register', patient: p, key: testKey(`c-${kind.name}-${b}-${i}`) })));
    }
    for (let b = 0; b < 40; b++) {
      blocks.push(patients.slice(b * 15, b * 15 + 10).map((p, i) => ({ kind: 'rotate', patient: p, key: testKey(`c-${kind.name}-r${b}-${i}`) })));
    }
    const mined = await mineScript(chain, registry, blocks);
    head = mined[mined.length - 1]!;
  }, 60_000);

  afterAll(async () => {
    await kind.cleanup();
  });

  it('survives SIGKILL in the middle of a backlog: no lost or doubled rows after a restart', async () => {
    const env = {
      RPC_URL: chain.rpcUrl,
      CHAIN_ID: '31337',
      DEPLOYMENTS_DIR: deployment.deploymentsDir,
      CONFIRMATIONS: '0',
      INDEXER_PORT: '0',
      INDEXER_PAGE_SIZE: '2',
      INDEXER_POLL_MS: '50',
      LOG_LEVEL: 'debug',
      ...(await kind.childEnv()),
    };
    const first = startService(env);
    await first.waitForLine((l) => l.msg === 'page indexed' && Number(l.to) >= deployment.startBlock + 6);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull(); // killed, not exited

    // Whatever page was in flight is either all there or not at all.
    let store = await openFromEnv(env);
    const state = await store.readState();
    const at = state!.checkpoint!.number;
    expect(at).toBeGreaterThanOrEqual(deployment.startBlock + 6);
    expect(at).toBeLessThan(head);
    expect(await dumpEntities(store)).toEqual(await expectedDump(chain.client, registry, deployment.startBlock, at));
    await store.close();

    const second = startService(env);
    const resumed = await second.waitForLine((l) => l.msg === 'indexer ready');
    expect(resumed.checkpoint).toBe(at); // resumed, not started over
    const port = Number((await second.waitForLine((l) => l.msg === 'indexer listening')).port);
    const deadline = Date.now() + 45_000;
    while ((await health(port)).checkpoint?.number !== head) {
      if (Date.now() > deadline) throw new Error('the restarted indexer did not catch up');
      await new Promise((r) => setTimeout(r, 100));
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.lines.some((l) => l.msg === 'indexer stopped')).toBe(true);

    store = await openFromEnv(env);
    try {
      const dump = await dumpEntities(store);
      expect(dump.PatientRegistered).toHaveLength(600);
      expect(dump.EncryptionKeyRotated).toHaveLength(400);
      expect(dump.Patient).toHaveLength(600);
      expect(new Set(dump.PatientRegistered.map((e) => e.id)).size).toBe(600);
      expect(dump.Patient.reduce((n, p) => n + Number(p.keyRotations), 0)).toBe(400);
      expect(dump).toEqual(await expectedDump(chain.client, registry, deployment.startBlock, head));
    } finally {
      await store.close();
    }
  }, 120_000);
});

