import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Address, Hex } from 'viem';
import { useConfig } from 'wagmi';
import { describeResource } from '@consentry/sdk/records/describe';
import type { Category } from '@consentry/sdk/records/categories';
import {
  fetchRequesterRecords,
  gatewayRefs,
  readErrorOf,
  readRecord,
  requesterKeys,
  type ClinicalRead,
  type ListedRecord,
} from '../lib/clinical.client.ts';
import { describeError } from '../lib/errors.ts';
import type { PublicConfig } from '../lib/public-config.ts';

/** A transaction's progress and outcome, for a status region (role=status) or an alert. */
export interface TxState {
  phase: 'idle' | 'busy' | 'done' | 'failed';
  message: string;
}
export const IDLE: TxState = { phase: 'idle', message: '' };

export function TxMessage({ state, testId }: { state: TxState; testId?: string }) {
  // The status region is always in the page so screen readers announce what appears in it.
  return (
    <div data-testid={testId} data-phase={state.phase}>
      <p role="status" aria-live="polite" className={state.phase === 'done' ? 'notice' : undefined}>
        {state.phase === 'busy' || state.phase === 'done' ? state.message : ''}
      </p>
      {state.phase === 'failed' ? (
        <p role="alert" className="error">
          {state.message}
        </p>
      ) : null}
    </div>
  );
}

/** Runs a transaction-like step and reports its progress in words. */
export async function runTx(
  set: (s: TxState) => void,
  busy: string,
  step: () => Promise<string>,
  rpcUrl: string,
): Promise<boolean> {
  set({ phase: 'busy', message: busy });
  try {
    set({ phase: 'done', message: await step() });
    return true;
  } catch (err) {
    set({ phase: 'failed', message: describeError(err, { rpcUrl, stage: 'transaction' }) });
    return false;
  }
}

export const categoryLabel = (c: string) => c.replace('-', ' ');

/**
 * A patient's records as the signed-in requester may see them listed, each with a "Read" button
 * that releases the data key through the committee and decrypts in this browser.
 */
export function ClinicalRecords({
  config,
  account,
  patient,
  only,
}: {
  config: PublicConfig;
  account: Address;
  patient: Address;
  /** Show only these categories (the emergency page shows the emergency categories). */
  only?: readonly Category[];
}) {
  const wagmi = useConfig();
  const list = useQuery({
    queryKey: ['requester-records', account.toLowerCase(), patient.toLowerCase()],
    queryFn: () => fetchRequesterRecords(wagmi, account, config.chainId, patient),
    retry: false,
  });
  const records = (list.data?.records ?? []).filter((r) => !only || only.includes(r.category));
  return (
    <div className="clinical-records" data-testid="clinical-records" data-patient={patient.toLowerCase()}>
      {list.isPending ? <p role="status">Signing in and loading the record list…</p> : null}
      {list.error ? (
        <p role="alert" className="error">
          {list.error instanceof Error && 'code' in list.error ? list.error.message : describeError(list.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}
      {list.data ? (
        <>
          <p className="muted small">
            Live for you now: {list.data.live.length ? list.data.live.map(categoryLabel).join(', ') : 'nothing'}. Listed: what you asked for or
            hold live; content is released only by the committee, per record.
          </p>
          {records.length === 0 ? <p>No records in these categories.</p> : null}
          <ul className="record-list">
            {records.map((r) => (
              <RecordToRead key={`${r.recordId}-${r.version}`} config={config} account={account} patient={patient} record={r} />
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function RecordToRead({ config, account, patient, record }: { config: PublicConfig; account: Address; patient: Address; record: ListedRecord }) {
  const wagmi = useConfig();
  const [state, setState] = useState<{ phase: 'idle' | 'busy' | 'done' | 'failed'; read?: ClinicalRead; problem?: string }>({ phase: 'idle' });
  const read = async () => {
    setState({ phase: 'busy' });
    try {
      const keys = await requesterKeys(wagmi, account, config.chainId);
      const gateways = await gatewayRefs(config.gateways);
      const result = await readRecord({
        config: wagmi,
        account,
        chainId: config.chainId,
        contracts: { AccessGrants: config.contracts?.AccessGrants ?? null, ReleaseCommittee: config.contracts?.ReleaseCommittee ?? null },
        gateways,
        patient,
        recordId: record.recordId as Hex,
        version: record.version,
        keys,
      });
      setState({ phase: 'done', read: result });
    } catch (err) {
      setState({ phase: 'failed', problem: readErrorOf(err).message });
    }
  };
  const d = state.read ? describeResource(state.read.resource) : null;
  return (
    <li className="record" data-testid="clinical-record" data-category={record.category} data-record-id={record.recordId} data-state={state.phase}>
      <div className="record-line">
        <span className="record-title">{record.resourceType}</span>
        <span className="badge">{categoryLabel(record.category)}</span>
        <span className="muted">v{record.version}</span>
        <button type="button" className="button" onClick={read} disabled={state.phase === 'busy'} aria-describedby={`read-${record.recordId}`}>
          Read
        </button>
      </div>
      <div id={`read-${record.recordId}`}>
        <p role="status" aria-live="polite">
          {state.phase === 'busy' ? 'Asking the release committee and decrypting in this browser…' : ''}
          {d ? `${d.title}${d.detail ? ` · ${d.detail}` : ''}${d.date ? ` · ${d.date}` : ''}` : ''}
        </p>
        {state.phase === 'failed' ? (
          <p role="alert" className="error">
            {state.problem}
          </p>
        ) : null}
      </div>
      {state.read ? (
        <>
          <p className="muted small">Released by {state.read.releasedBy.length} committee members; decrypted in this browser.</p>
          <details>
            <summary>FHIR JSON</summary>
            <pre className="fhir-json">{JSON.stringify(state.read.resource, null, 2)}</pre>
          </details>
        </>
      ) : null}
    </li>
  );
}
