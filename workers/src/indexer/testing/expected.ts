// What the index must hold, worked out independently of the indexer: the PatientRegistry events
// read straight from the chain, folded into Patients by the rules of schema.graphql (these scripts
// set no guardians and recover nothing; subgraph/test/recovery-parity.test.ts covers that).
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import type { Address, PublicClient } from 'viem';
import type { EntityDump } from '../dump.ts';

type Row = Record<string, string | number | boolean | null>;

export async function expectedDump(
  client: PublicClient,
  registry: Address,
  fromBlock: number,
  toBlock: number,
): Promise<EntityDump> {
  const logs = await client.getContractEvents({
    address: registry,
    abi: patientRegistryAbi,
    fromBlock: BigInt(fromBlock),
    toBlock: BigInt(toBlock),
    strict: true,
  });
  const timestamps = new Map<bigint, string>();
  for (const n of new Set(logs.map((l) => l.blockNumber))) {
    timestamps.set(n, (await client.getBlock({ blockNumber: n })).timestamp.toString());
  }
  const patients = new Map<string, Row>();
  const registered: Row[] = [];
  const rotated: Row[] = [];
  for (const l of logs) {
    const base = {
      id: `${l.transactionHash}${l.logIndex.toString(16).padStart(8, '0')}`.toLowerCase(),
      blockNumber: l.blockNumber.toString(),
      blockTimestamp: timestamps.get(l.blockNumber)!,
      transactionHash: l.transactionHash.toLowerCase(),
      logIndex: String(l.logIndex),
    };
    const block = l.blockNumber.toString();
    const at = timestamps.get(l.blockNumber)!;
    if (l.eventName === 'PatientRegistered') {
      const patient = l.args.patient.toLowerCase();
      const key = l.args.encryptionKey.toLowerCase();
      registered.push({ ...base, patient, encryptionKey: key });
      patients.set(patient, {
        id: patient,
        controller: patient,
        encryptionKey: key,
        keyRotations: 0,
        registeredAtBlock: block,
        registeredAtTimestamp: at,
        updatedAtBlock: block,
        updatedAtTimestamp: at,
      });
    } else if (l.eventName === 'EncryptionKeyRotated') {
      const patient = l.args.patient.toLowerCase();
      rotated.push({ ...base, patient, previousKey: l.args.previousKey.toLowerCase(), newKey: l.args.newKey.toLowerCase() });
      const p = patients.get(patient)!;
      patients.set(patient, {
        ...p,
        encryptionKey: l.args.newKey.toLowerCase(),
        keyRotations: (p.keyRotations as number) + 1,
        updatedAtBlock: block,
        updatedAtTimestamp: at,
      });
    }
  }
  const byId = (a: Row, b: Row) => (String(a.id) < String(b.id) ? -1 : 1);
  return {
    Patient: [...patients.values()].sort(byId),
    PatientRegistered: registered.sort(byId),
    EncryptionKeyRotated: rotated.sort(byId),
    // These scripts anchor nothing; anchors are covered by indexer.anchors.test.ts and the parity test.
    AnchorBatch: [],
    RecordVersion: [],
    // Nor do they use the access contracts; the parity test covers those.
    Organization: [],
    AccessRequest: [],
    Grant: [],
    AccessEvent: [],
    BreakGlass: [],
    PatientPolicy: [],
    CommitteeMember: [],
    CommitteeEpoch: [],
    LogRoot: [],
    // Nor the marketplace; indexer.market.test.ts and the parity test cover it.
    Study: [],
    Purchase: [],
    IrbDecision: [],
    Enrollment: [],
    ConsentRevocation: [],
    PurchaseConfirmation: [],
    Refund: [],
    Claim: [],
    Issuer: [],
  };
}
