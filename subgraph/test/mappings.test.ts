// Unit tests of the compiled AssemblyScript mappings (build/PatientRegistry/PatientRegistry.wasm),
// run in Node by the test host against hand-made event sequences.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureSubgraphBuilt, MappingHost, MappingHostError, runMappings } from './host/index.ts';
import {
  ALICE,
  BOB,
  blockHash,
  eventId,
  key,
  OTHER_CONTRACT,
  REGISTRY,
  registered,
  rotated,
  timestampOf,
  txHash,
} from './events.ts';

beforeAll(async () => {
  await ensureSubgraphBuilt();
}, 240_000);

const sources = { PatientRegistry: { address: REGISTRY } };

describe('handlePatientRegistered', () => {
  it('creates the Patient and an immutable PatientRegistered from one log', () => {
    const dump = runMappings([registered(ALICE, key('a1'), { block: 5, logIndex: 0, tx: 'r-alice' })], { sources });

    expect(dump).toEqual({
      Patient: [
        {
          id: ALICE,
          controller: ALICE,
          encryptionKey: key('a1'),
          keyRotations: 0,
          registeredAtBlock: '5',
          registeredAtTimestamp: String(timestampOf(5)),
          updatedAtBlock: '5',
          updatedAtTimestamp: String(timestampOf(5)),
        },
      ],
      PatientRegistered: [
        {
          id: eventId('r-alice', 0),
          patient: ALICE,
          encryptionKey: key('a1'),
          blockNumber: '5',
          blockTimestamp: String(timestampOf(5)),
          transactionHash: txHash('r-alice'),
          logIndex: '0',
        },
      ],
      EncryptionKeyRotated: [],
      AnchorBatch: [],
      RecordVersion: [],
      Organization: [],
      AccessRequest: [],
      Grant: [],
      AccessEvent: [],
      BreakGlass: [],
      PatientPolicy: [],
      CommitteeMember: [],
      CommitteeEpoch: [],
      LogRoot: [],
      Study: [],
      IrbDecision: [],
      Enrollment: [],
      ConsentRevocation: [],
      Purchase: [],
      PurchaseConfirmation: [],
      Refund: [],
      Claim: [],
      Issuer: [],
    });
  });

  it('builds event ids as tx hash ++ log index in 4 big-endian bytes', () => {
    const dump = runMappings([registered(ALICE, key('a1'), { block: 9, logIndex: 0x01020304, tx: 'big-index' })], { sources });
    const id = dump.PatientRegistered![0]!.id as string;
    expect(id).toHaveLength(2 + 36 * 2);
    expect(id).toBe(`${txHash('big-index')}01020304`);
    expect(dump.PatientRegistered![0]!.logIndex).toBe(String(0x01020304));
  });
});

describe('handleEncryptionKeyRotated', () => {
  it('register then rotate twice: the key follows, rotations count, timestamps move', () => {
    const host = new MappingHost({ sources }).run([
      registered(ALICE, key('a1'), { block: 3, logIndex: 1, tx: 'r' }),
      rotated(ALICE, key('a1'), key('a2'), { block: 6, logIndex: 0, tx: 'k1' }),
      rotated(ALICE, key('a2'), key('a3'), { block: 8, logIndex: 2, tx: 'k2' }),
    ]);
    const dump = host.dump();

    expect(dump.Patient).toEqual([
      {
        id: ALICE,
        controller: ALICE,
        encryptionKey: key('a3'),
        keyRotations: 2,
        registeredAtBlock: '3',
        registeredAtTimestamp: String(timestampOf(3)),
        updatedAtBlock: '8',
        updatedAtTimestamp: String(timestampOf(8)),
      },
    ]);
    const rotations = dump.EncryptionKeyRotated!;
    expect(rotations).toHaveLength(2);
    const byBlock = [...rotations].sort((a, b) => Number(a.blockNumber) - Number(b.blockNumber));
    expect(byBlock.map((r) => [r.previousKey, r.newKey])).toEqual([
      [key('a1'), key('a2')],
      [key('a2'), key('a3')],
    ]);
    expect(byBlock.map((r) => r.id)).toEqual([eventId('k1', 0), eventId('k2', 2)]);
    expect(byBlock.every((r) => r.patient === ALICE)).toBe(true);
    // Rows come sorted by id.
    expect(rotations.map((r) => r.id)).toEqual([...rotations.map((r) => r.id as string)].sort());
    expect(host.calls.map((c) => c.handler)).toEqual([
      'handlePatientRegistered',
      'handleEncryptionKeyRotated',
      'handleEncryptionKeyRotated',
    ]);
    expect(host.logs).toEqual([]);
  });

  it('keeps the event but no Patient when the registration is before the start block, and warns', () => {
    const host = new MappingHost({ sources: { PatientRegistry: { address: REGISTRY, startBlock: 4 } } }).run([
      registered(BOB, key('b1'), { block: 2, logIndex: 0, tx: 'early' }),
      rotated(BOB, key('b1'), key('b2'), { block: 4, logIndex: 0, tx: 'late' }),
    ]);
    const dump = host.dump();
    expect(dump.Patient).toEqual([]);
    expect(dump.PatientRegistered).toEqual([]);
    expect(dump.EncryptionKeyRotated).toHaveLength(1);
    expect(host.logs).toEqual([
      { level: 'warning', message: `EncryptionKeyRotated for a patient registered before the start block: ${BOB}` },
    ]);
  });
});

describe('a history of two patients', () => {
  const history = [
    registered(ALICE, key('a1'), { block: 10, logIndex: 0, tx: 'ra' }),
    registered(BOB, key('b1'), { block: 10, logIndex: 1, tx: 'rb' }),
    rotated(BOB, key('b1'), key('b2'), { block: 11, logIndex: 0, tx: 'kb1' }),
    rotated(ALICE, key('a1'), key('a2'), { block: 12, logIndex: 0, tx: 'ka1' }),
    rotated(BOB, key('b2'), key('b3'), { block: 12, logIndex: 1, tx: 'kb2' }),
    rotated(BOB, key('b3'), key('b4'), { block: 13, logIndex: 0, tx: 'kb3' }),
  ];

  it('gives each patient its own key and count, rows sorted by id', () => {
    const dump = runMappings(history, { sources });
    const patients = dump.Patient!;
    expect(patients.map((p) => p.id)).toEqual([ALICE, BOB].sort());
    const alice = patients.find((p) => p.id === ALICE)!;
    const bob = patients.find((p) => p.id === BOB)!;
    expect([alice.encryptionKey, alice.keyRotations, alice.updatedAtBlock]).toEqual([key('a2'), 1, '12']);
    expect([bob.encryptionKey, bob.keyRotations, bob.updatedAtBlock]).toEqual([key('b4'), 3, '13']);
    expect([alice.registeredAtBlock, bob.registeredAtBlock]).toEqual(['10', '10']);
    expect(dump.PatientRegistered).toHaveLength(2);
    expect(dump.EncryptionKeyRotated).toHaveLength(4);
    expect(dump.EncryptionKeyRotated!.filter((e) => e.patient === BOB)).toHaveLength(3);
  });

  it('handles logs in chain order whatever order they are given in', () => {
    const shuffled = [history[5]!, history[3]!, history[0]!, history[4]!, history[2]!, history[1]!];
    expect(runMappings(shuffled, { sources })).toEqual(runMappings(history, { sources }));
  });

  it('skips logs of other contracts, before the start block, removed by a reorg, or of unknown events', () => {
    const noise = [
      registered(ALICE, key('x'), { block: 10, logIndex: 5, tx: 'other', address: OTHER_CONTRACT }),
      { ...registered(BOB, key('y'), { block: 14, logIndex: 0, tx: 'reorged' }), removed: true },
      { ...registered(BOB, key('z'), { block: 14, logIndex: 1, tx: 'unknown' }), topics: [blockHash(0)] },
      registered(BOB, key('w'), { block: 1, logIndex: 0, tx: 'too-early' }),
    ];
    const filtered = { PatientRegistry: { address: REGISTRY, startBlock: 5 } };
    const host = new MappingHost({ sources: filtered }).run([...history, ...noise]);
    expect(host.dump()).toEqual(runMappings(history, { sources }));
    expect(host.calls).toHaveLength(history.length);
  });
});

describe('the store checks graph-node makes', () => {
  it('refuses to write an immutable event entity twice (the same log handled twice)', () => {
    const log = registered(ALICE, key('a1'), { block: 5, logIndex: 0, tx: 'dup' });
    const err = (() => {
      try {
        runMappings([log, log], { sources });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(MappingHostError);
    expect((err as MappingHostError).code).toBe('STORE_IMMUTABLE');
    expect((err as MappingHostError).message).toContain('handlePatientRegistered (block 5');
  });

  it('rejects a log whose topics do not fit the event', () => {
    const bad = { ...registered(ALICE, key('a1'), { block: 5, logIndex: 0, tx: 't' }) };
    bad.topics = bad.topics.slice(0, 1);
    expect(() => runMappings([bad], { sources })).toThrow(/1 indexed inputs but the log has 0 topics/);
  });

  it('rejects malformed recorded logs with the field that is wrong', () => {
    const bad = { ...registered(ALICE, key('a1'), { block: 5, logIndex: 0, tx: 't' }), data: '0x123' as `0x${string}` };
    expect(() => runMappings([bad], { sources })).toThrow(/logs\[0\] is not a valid recorded log: data/);
  });
});
