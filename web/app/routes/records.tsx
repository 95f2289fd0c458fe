import type { MetaFunction } from '@remix-run/node';
import { useRouteLoaderData } from '@remix-run/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState, type FormEvent } from 'react';
import type { Address } from 'viem';
import { useAccount, useConfig } from 'wagmi';
import type { EncryptionKeyPair } from '@consentry/sdk/keys';
import { CATEGORIES } from '@consentry/sdk/records/categories';
import { describeResource, type ResourceDescription } from '@consentry/sdk/records/describe';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { ConnectPanel } from '../components/ConnectWallet.tsx';
import { describeError } from '../lib/errors.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import { useOpenKeys } from '../lib/use-open-keys.ts';
import { usePatientAccount } from '../lib/use-patient-account.ts';
import { MovedAway } from '../components/MovedAway.tsx';
import {
  correctRecord,
  decryptVersion,
  eraseRecord,
  exportZip,
  fetchRecords,
  importFiles,
  countUnshared,
  readCurrentCommittee,
  readNote,
  shareRecordsWithCommittee,
  type ApiErasure,
  type ApiVersion,
  type ImportProgress,
  type RecordsData,
} from '../lib/records.client.ts';
import type { loader as rootLoader } from '../root.tsx';

export const meta: MetaFunction = () => [{ title: 'My records · Consentry' }];

export default function RecordsPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const { address, status } = useAccount();
  if (!config) return null;
  return (
    <div className="page">
      <h1>My records</h1>
      <p className="lead">
        Your records are encrypted in this browser before they are stored, and decrypted here when you read them. The
        server keeps only ciphertext and hashes; the chain keeps only Merkle roots.
      </p>
      {status === 'connected' && address ? (
        <RecordsGate key={address} config={config} address={address} />
      ) : (
        <section aria-labelledby="records-connect" className="panel">
          <h2 id="records-connect">Connect your wallet</h2>
          {status === 'reconnecting' || status === 'connecting' ? <p role="status">Reconnecting your wallet…</p> : <ConnectPanel config={config} />}
        </section>
      )}
    </div>
  );
}

/**
 * Before anything is shown: the account this wallet acts for (itself, or the account a recovery moved
 * to it), the encryption key (derived from a signature) and a session.
 */
function RecordsGate({ config, address }: { config: PublicConfig; address: Address }) {
  const patient = usePatientAccount(config, address);
  const { keys, open: ready, busy, problem, unlock: open } = useOpenKeys(address, config, patient.account);

  if (patient.movedTo) return <MovedAway wallet={address} movedTo={patient.movedTo} />;
  if (ready && keys && patient.account) return <RecordsWorkspace config={config} wallet={address} address={patient.account} keys={keys} />;
  return (
    <section className="panel" aria-labelledby="records-open">
      <h2 id="records-open">Open your records</h2>
      <p>
        Your wallet signs two free messages: one from which this browser derives your encryption key (it never leaves
        this page), and one that signs you in to the record store. Neither is a transaction.
      </p>
      <button type="button" className="button button--primary" disabled={busy || !patient.account} onClick={open}>
        {busy ? 'Waiting for your wallet…' : 'Open my records'}
      </button>
      {problem ? (
        <p role="alert" className="error">
          {problem}
        </p>
      ) : null}
    </section>
  );
}

interface RecordView {
  recordId: string;
  resourceType: string;
  category: string;
  versions: ApiVersion[];
  latest: ApiVersion;
  erased: ApiErasure | null;
}

function groupRecords(data: RecordsData): RecordView[] {
  const byRecord = new Map<string, ApiVersion[]>();
  for (const v of data.versions) byRecord.set(v.recordId, [...(byRecord.get(v.recordId) ?? []), v]);
  const erased = new Map(data.erasures.map((e) => [e.recordId, e]));
  return [...byRecord].map(([recordId, versions]) => {
    versions.sort((a, b) => a.version - b.version);
    const latest = versions.at(-1)!;
    return { recordId, resourceType: latest.resourceType, category: latest.category, versions, latest, erased: erased.get(recordId) ?? null };
  });
}

/** `address` is the patient account (records are keyed by it); `wallet` signs for it. */
function RecordsWorkspace({ config, wallet, address, keys }: { config: PublicConfig; wallet: Address; address: Address; keys: EncryptionKeyPair }) {
  const queryClient = useQueryClient();
  const sharing = useCommitteeSharing(config, wallet, keys);
  const records = useQuery({
    queryKey: ['records', address.toLowerCase()],
    queryFn: fetchRecords,
    // While versions wait for the anchorer, look again every few seconds.
    refetchInterval: (q) => (q.state.data?.versions.some((v) => !v.batchRoot) ? 3000 : false),
  });
  const grouped = useMemo(() => (records.data ? groupRecords(records.data) : []), [records.data]);
  const latestKey = grouped.map((r) => r.latest.leafHash).join(',');
  const plain = useQuery({
    queryKey: ['records-plain', address.toLowerCase(), latestKey],
    enabled: grouped.length > 0,
    queryFn: async () => {
      const out = new Map<string, { resource: FhirResource; description: ResourceDescription }>();
      for (const r of grouped) {
        if (r.erased) continue;
        const resource = await decryptVersion(r.latest, keys);
        out.set(r.recordId, { resource, description: describeResource(resource) });
      }
      return out;
    },
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['records', address.toLowerCase()] });
  const anchored = grouped.filter((r) => r.versions.every((v) => v.batchRoot)).length;

  return (
    <>
      <UploadPanel
        address={address}
        keys={keys}
        onImported={() => {
          refresh();
          void sharing.share();
        }}
      />
      <SharingPanel sharing={sharing} />
      <section className="panel" aria-labelledby="records-list">
        <div className="panel-header">
          <h2 id="records-list">Your records</h2>
          {records.data && grouped.length > 0 ? <ExportButton data={records.data} address={address} keys={keys} /> : null}
        </div>
        {records.isPending ? <p role="status">Loading your records…</p> : null}
        {records.error ? (
          <p role="alert" className="error">
            {describeError(records.error, { rpcUrl: '', stage: 'reading' })}
          </p>
        ) : null}
        {records.data && grouped.length === 0 ? <p>No records yet. Upload FHIR files above.</p> : null}
        {grouped.length > 0 ? (
          <p data-testid="records-summary" role="status">
            {grouped.length} records, {anchored} anchored on chain{plain.isPending ? ' · decrypting…' : ''}
          </p>
        ) : null}
        {plain.error ? (
          <p role="alert" className="error">
            Decryption failed: {plain.error instanceof Error ? plain.error.message : String(plain.error)}
          </p>
        ) : null}
        {CATEGORIES.map((category) => {
          const inCategory = grouped.filter((r) => r.category === category);
          if (inCategory.length === 0) return null;
          return (
            <section key={category} aria-labelledby={`cat-${category}`} className="record-category" data-testid={`category-${category}`}>
              <h3 id={`cat-${category}`}>
                {category.replace('-', ' ')} <span className="muted">({inCategory.length})</span>
              </h3>
              <ul className="record-list">
                {inCategory.map((r) => (
                  <RecordRow
                    key={r.recordId}
                    record={r}
                    plain={plain.data?.get(r.recordId)}
                    address={address}
                    keys={keys}
                    onChanged={() => {
                      refresh();
                      void sharing.share();
                    }}
                  />
                ))}
              </ul>
            </section>
          );
        })}
      </section>
    </>
  );
}

type SharingState =
  | { kind: 'idle' }
  | { kind: 'running'; done: number; total: number }
  | { kind: 'done'; shared: number; epoch: number }
  | { kind: 'failed'; problem: string };

/**
 * Keeps the patient's records shared with the release committee: after an import, and again (on
 * request) when the committee's epoch moves on. Splitting happens in this page; see shareRecordsWithCommittee.
 */
function useCommitteeSharing(config: PublicConfig, address: Address, keys: EncryptionKeyPair) {
  const wagmiConfig = useConfig();
  const queryClient = useQueryClient();
  const [state, setState] = useState<SharingState>({ kind: 'idle' });
  const committeeAddress = config.contracts?.ReleaseCommittee ?? null;
  const status = useQuery({
    queryKey: ['committee-sharing', address.toLowerCase(), committeeAddress],
    enabled: committeeAddress !== null,
    refetchInterval: 15_000,
    queryFn: async () => {
      const committee = await readCurrentCommittee(config.rpcUrl, committeeAddress!);
      const unshared = committee.members.length > 0 ? await countUnshared(committee.epoch) : 0;
      return { epoch: committee.epoch, members: committee.members.length, threshold: committee.threshold, unshared };
    },
  });
  const share = async () => {
    if (!committeeAddress) return;
    setState({ kind: 'running', done: 0, total: 0 });
    try {
      const shared = await shareRecordsWithCommittee(
        { config: wagmiConfig, account: address, chainId: config.chainId, keys, rpcUrl: config.rpcUrl, committee: committeeAddress },
        (done, total) => setState({ kind: 'running', done, total }),
      );
      const committee = await readCurrentCommittee(config.rpcUrl, committeeAddress);
      setState(shared > 0 ? { kind: 'done', shared, epoch: committee.epoch } : { kind: 'idle' });
    } catch (err) {
      setState({ kind: 'failed', problem: describeError(err, { rpcUrl: config.rpcUrl, stage: 'reading' }) });
    } finally {
      await queryClient.invalidateQueries({ queryKey: ['committee-sharing', address.toLowerCase()] });
    }
  };
  return { state, status, share, available: committeeAddress !== null };
}

function SharingPanel({ sharing }: { sharing: ReturnType<typeof useCommitteeSharing> }) {
  const { state, status, share, available } = sharing;
  if (!available) return null;
  const running = state.kind === 'running';
  const unshared = status.data?.unshared ?? 0;
  return (
    <section className="panel sharing-panel" aria-labelledby="sharing-title" data-testid="committee-sharing" data-state={state.kind}>
      <h2 id="sharing-title">Release committee</h2>
      <p className="muted">
        Each record&apos;s key is split in this browser so that {status.data ? `any ${status.data.threshold} of the ${status.data.members}` : 'enough'}{' '}
        committee members together can release it to someone you approve, and fewer learn nothing.
      </p>
      <div aria-live="polite" role="status" data-testid="sharing-status">
        {state.kind === 'running'
          ? state.total > 0
            ? `Sharing with the release committee: ${state.done} of ${state.total}`
            : 'Sharing with the release committee…'
          : state.kind === 'done'
            ? `Shared with the release committee (epoch ${state.epoch}): ${state.shared} ${state.shared === 1 ? 'version' : 'versions'} this time.`
            : status.data && !running
              ? unshared > 0
                ? `${unshared} ${unshared === 1 ? 'version is' : 'versions are'} not shared with the current committee (epoch ${status.data.epoch}).`
                : `All your records are shared with the current committee (epoch ${status.data.epoch}).`
              : ''}
      </div>
      {state.kind === 'running' && state.total > 0 ? <progress max={state.total} value={state.done} aria-label="Sharing progress" /> : null}
      {state.kind === 'failed' ? (
        <p role="alert" className="error">
          Sharing with the release committee failed: {state.problem}
        </p>
      ) : null}
      {status.error ? (
        <p role="alert" className="error">
          The committee could not be read: {describeError(status.error, { rpcUrl: '', stage: 'reading' })}
        </p>
      ) : null}
      {unshared > 0 && !running ? (
        <button type="button" className="button" onClick={() => void share()}>
          Re-share with the current committee
        </button>
      ) : null}
    </section>
  );
}

function UploadPanel({ address, keys, onImported }: { address: Address; keys: EncryptionKeyPair; onImported: () => void }) {
  const inputId = useId();
  const [files, setFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<ImportProgress | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const running = progress !== null && progress.stage !== 'done';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (files.length === 0) return;
    setProblem(null);
    try {
      await importFiles(files, address, keys, setProgress);
      onImported();
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
      setProgress((p) => (p ? { ...p, stage: 'done' } : p));
    }
  };

  const stageText: Record<ImportProgress['stage'], string> = {
    'loading-definitions': 'Loading the FHIR R4 definitions…',
    validating: 'Validating…',
    encrypting: 'Encrypting and storing…',
    done: 'Done.',
  };

  return (
    <section className="panel" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload FHIR files</h2>
      <form onSubmit={submit} className="upload-form">
        <label htmlFor={inputId}>FHIR R4 Bundles (.json) or Bulk Data NDJSON (.ndjson)</label>
        <input id={inputId} type="file" multiple accept=".json,.ndjson,.jsonl,application/json,application/fhir+json" onChange={(e) => setFiles([...(e.target.files ?? [])])} />
        <button type="submit" className="button button--primary" disabled={running || files.length === 0}>
          {running ? 'Importing…' : 'Encrypt and upload'}
        </button>
      </form>
      {progress ? (
        <div data-testid="upload-progress" data-stage={progress.stage}>
          <p role="status">
            {stageText[progress.stage]} {progress.total > 0 ? `${progress.done} of ${progress.total} resources` : ''}
          </p>
          {progress.total > 0 ? <progress max={progress.total} value={progress.done} aria-label="Import progress" /> : null}
          {progress.stage === 'done' ? (
            <p data-testid="import-summary">
              {progress.stored} stored, {progress.unchanged} already stored, {progress.errors.length} rejected.
            </p>
          ) : null}
          {progress.errors.length > 0 ? (
            <details open>
              <summary>
                {progress.errors.length === 1 ? '1 resource was' : `${progress.errors.length} resources were`} rejected (the others were stored)
              </summary>
              <ul data-testid="import-errors">
                {progress.errors.map((e) => (
                  <li key={e.location}>
                    <code>{e.location}</code>: {e.reason}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
        </div>
      ) : null}
      {problem ? (
        <p role="alert" className="error">
          {problem}
        </p>
      ) : null}
    </section>
  );
}

function ExportButton({ data, address, keys }: { data: RecordsData; address: Address; keys: EncryptionKeyPair }) {
  const [state, setState] = useState<{ busy: boolean; url?: string; problem?: string }>({ busy: false });
  const build = async () => {
    setState({ busy: true });
    try {
      const blob = await exportZip(data, address, keys);
      const url = URL.createObjectURL(blob);
      setState({ busy: false, url });
      const a = document.createElement('a');
      a.href = url;
      a.download = `consentry-records-${address.slice(2, 8).toLowerCase()}.zip`;
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      setState({ busy: false, problem: err instanceof Error ? err.message : String(err) });
    }
  };
  return (
    <div className="export">
      <button type="button" className="button" onClick={build} disabled={state.busy} data-testid="export-button">
        {state.busy ? 'Building the export…' : 'Download export (.zip)'}
      </button>
      {state.problem ? (
        <p role="alert" className="error">
          {state.problem}
        </p>
      ) : null}
      <p className="muted small">Check it anywhere with <code>consentry verify &lt;file.zip&gt;</code>.</p>
    </div>
  );
}

type Mode = 'view' | 'history' | 'correct' | 'erase';

function RecordRow({
  record,
  plain,
  address,
  keys,
  onChanged,
}: {
  record: RecordView;
  plain: { resource: FhirResource; description: ResourceDescription } | undefined;
  address: Address;
  keys: EncryptionKeyPair;
  onChanged: () => void;
}) {
  const [mode, setMode] = useState<Mode>('view');
  const anchored = record.versions.every((v) => v.batchRoot);
  const title = record.erased ? `${record.resourceType} (erased)` : (plain?.description.title ?? record.resourceType);
  return (
    <li className="record" data-testid="record-row" data-record-id={record.recordId} data-category={record.category} data-erased={record.erased ? 'true' : 'false'}>
      <div className="record-line">
        <span className="record-title">{title}</span>
        <span className="record-detail">{record.erased ? `Erased ${new Date(record.erased.erasedAt).toLocaleString()}: ${readNote(keys, record.erased.reason)}` : plain?.description.detail}</span>
        <span className="record-date">{plain?.description.date.slice(0, 10)}</span>
        <span className="badge" title={anchored ? 'Its hash is in a Merkle root anchored on chain' : 'Waiting for the anchorer'} data-testid="anchor-status">
          {anchored ? 'anchored' : 'pending'}
        </span>
        <span className="badge">v{record.latest.version}</span>
        <span className="record-actions">
          <button type="button" className="link-button" aria-expanded={mode === 'history'} onClick={() => setMode(mode === 'history' ? 'view' : 'history')}>
            History
          </button>
          {record.erased ? null : (
            <>
              <button type="button" className="link-button" aria-expanded={mode === 'correct'} onClick={() => setMode(mode === 'correct' ? 'view' : 'correct')}>
                Correct
              </button>
              <button type="button" className="link-button danger" aria-expanded={mode === 'erase'} onClick={() => setMode(mode === 'erase' ? 'view' : 'erase')}>
                Erase
              </button>
            </>
          )}
        </span>
      </div>
      {mode === 'history' ? <History record={record} keys={keys} /> : null}
      {mode === 'correct' && plain ? (
        <CorrectForm record={record} resource={plain.resource} address={address} keys={keys} onDone={() => (setMode('view'), onChanged())} />
      ) : null}
      {mode === 'erase' ? <EraseForm record={record} keys={keys} onDone={() => (setMode('view'), onChanged())} /> : null}
    </li>
  );
}

function History({ record, keys }: { record: RecordView; keys: EncryptionKeyPair }) {
  const versions = useQuery({
    queryKey: ['history', record.recordId, record.latest.leafHash, Boolean(record.erased)],
    queryFn: async () =>
      Promise.all(record.versions.map(async (v) => ({ v, resource: record.erased ? null : await decryptVersion(v, keys) }))),
  });
  return (
    <div className="history" data-testid="record-history">
      <h4>History</h4>
      {versions.isPending ? <p role="status">Decrypting…</p> : null}
      <ol>
        {(versions.data ?? []).map(({ v, resource }) => (
          <li key={v.leafHash} data-testid="history-version" data-version={v.version}>
            <strong>Version {v.version}</strong> · {new Date(v.createdAt).toLocaleString()}
            {v.reason ? <> · reason: {readNote(keys, v.reason)}</> : null} · {v.batchRoot ? `anchored under ${v.batchRoot.slice(0, 10)}…` : 'not anchored yet'}
            {resource ? <pre className="fhir-json">{JSON.stringify(resource, null, 2)}</pre> : <p className="muted">Content erased: no key opens it.</p>}
          </li>
        ))}
      </ol>
    </div>
  );
}

/** A form's submit handler with its busy state and the failure in words. */
function useSubmit(action: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await action();
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const alert = problem ? (
    <p role="alert" className="error">
      {problem}
    </p>
  ) : null;
  return { busy, submit, alert };
}

function CorrectForm({
  record,
  resource,
  address,
  keys,
  onDone,
}: {
  record: RecordView;
  resource: FhirResource;
  address: Address;
  keys: EncryptionKeyPair;
  onDone: () => void;
}) {
  const id = useId();
  const [text, setText] = useState(JSON.stringify(resource, null, 2));
  const [reason, setReason] = useState('');
  const { busy, submit, alert } = useSubmit(async () => {
    await correctRecord(record.latest, text, reason, address, keys);
    onDone();
  });
  return (
    <form className="correct-form" onSubmit={submit} aria-label="Correct this record">
      <p className="muted">A correction adds version {record.latest.version + 1}; every earlier version stays in the history.</p>
      <label htmlFor={`${id}-json`}>Corrected FHIR resource (JSON)</label>
      <textarea id={`${id}-json`} rows={12} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      <label htmlFor={`${id}-reason`}>Reason for the correction</label>
      <input id={`${id}-reason`} type="text" value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} />
      <button type="submit" className="button button--primary" disabled={busy}>
        {busy ? 'Encrypting…' : 'Save correction'}
      </button>
      {alert}
    </form>
  );
}

function EraseForm({ record, keys, onDone }: { record: RecordView; keys: EncryptionKeyPair; onDone: () => void }) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [sure, setSure] = useState(false);
  const { busy, submit, alert } = useSubmit(async () => {
    await eraseRecord(record.recordId, reason, keys);
    onDone();
  });
  return (
    <form className="erase-form" onSubmit={submit} aria-label="Erase this record">
      <p>
        Erasing destroys every copy of this record&apos;s data keys. Its content can never be read again, by you or
        anyone; its anchored hash stays on chain so the history remains provable.
      </p>
      <label htmlFor={`${id}-reason`}>Reason for the erasure</label>
      <input id={`${id}-reason`} type="text" value={reason} onChange={(e) => setReason(e.target.value)} required minLength={3} />
      <label className="checkbox">
        <input type="checkbox" checked={sure} onChange={(e) => setSure(e.target.checked)} /> I understand this cannot be undone
      </label>
      <button type="submit" className="button danger" disabled={busy || !sure}>
        {busy ? 'Erasing…' : 'Erase permanently'}
      </button>
      {alert}
    </form>
  );
}
