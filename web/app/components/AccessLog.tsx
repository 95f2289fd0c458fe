import { useQuery } from '@tanstack/react-query';
import { useState, useSyncExternalStore } from 'react';
import type { Address } from 'viem';
import { useConfig } from 'wagmi';
import { signTypedData } from 'wagmi/actions';
import type { AccessLogCheck, Read } from '@consentry/sdk/access/access-log';
import { deriveEncryptionKeyPair, keyDerivationTypedData } from '@consentry/sdk/keys';
import { absoluteTime, categoryLabel, formatDuration, purposeLabel, relativeTime, shortAddress } from '../lib/access.ts';
import { fetchCheckedAccessLog, summariesOf } from '../lib/access.client.ts';
import { describeError } from '../lib/errors.ts';
import { GRAPHQL_PATH } from '../lib/access.client.ts';
import { ReceiptButton, receiptFileName, releaseReceipt } from '../lib/receipts.client.ts';
import { keyFor, rememberKey, subscribeKeys } from '../lib/keyring.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import { ensureSession } from '../lib/records.client.ts';

/**
 * "Who saw my records": every read of the patient's records (one requester, one record version,
 * the k gateways that released a share), each entry proven against a log root its committee member
 * posted on chain. Altered or missing entries are flagged in words; the record's one-line summary is
 * decrypted in this page when the patient's key is open.
 */
/** `patient` is the account read; `wallet` the connected wallet that holds its key and signs in (decision 031). */
export function AccessLog({ config, patient, wallet = patient, now }: { config: PublicConfig; patient: Address; wallet?: Address; now: number }) {
  const log = useQuery({
    queryKey: ['access-log', patient.toLowerCase()],
    queryFn: () => fetchCheckedAccessLog(config, patient),
    refetchInterval: 5000,
    retry: false,
  });
  const keys = useSyncExternalStore(subscribeKeys, () => keyFor(wallet), () => undefined);
  const [signedIn, setSignedIn] = useState(false);
  const summaries = useQuery({
    queryKey: ['access-log-summaries', patient.toLowerCase(), (log.data?.reads ?? []).map((r) => `${r.recordId}:${r.version}`).join()],
    enabled: Boolean(keys) && signedIn,
    queryFn: () => summariesOf(keys!),
  });
  const data = log.data;
  return (
    <section className="panel" aria-labelledby="access-log-title" data-testid="access-log">
      <div className="panel-header">
        <h2 id="access-log-title">Who saw my records</h2>
        {keys && signedIn ? null : <UnlockSummaries config={config} patient={patient} wallet={wallet} onOpen={() => setSignedIn(true)} />}
      </div>
      <p className="muted">
        Each committee gateway logs every share it releases before it releases it, and posts the log&apos;s Merkle root on chain. Each entry below is
        checked here against those roots.
      </p>
      {log.isPending ? <p role="status">Loading the access log…</p> : null}
      {log.error ? (
        <p role="alert" className="error" data-testid="access-log-problem">
          The access log cannot be shown right now: {describeError(log.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}
      {data ? <Summary data={data} /> : null}
      {data ? <MissingEntries data={data} /> : null}
      {data && data.reads.length === 0 ? (
        <p>{data.summary.missing > 0 ? 'No read of your records is in the index, but entries are missing (above): this list cannot be trusted yet.' : 'Nobody has read any of your records.'}</p>
      ) : null}
      {data && data.reads.length > 0 ? (
        <ul className="access-list">
          {data.reads.map((r) => (
            <ReadCard
              key={`${r.requester}:${r.recordId}:${r.version}:${r.at}`}
              config={config}
              read={r}
              now={now}
              summary={summaries.data?.get(`${r.recordId.toLowerCase()}:${r.version}`)}
            />
          ))}
        </ul>
      ) : null}
      {summaries.error ? (
        <p role="alert" className="error">
          Your record summaries could not be decrypted: {describeError(summaries.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}
    </section>
  );
}

function Summary({ data }: { data: AccessLogCheck }) {
  const { proven, pending, altered, missing } = data.summary;
  return (
    <p role="status" aria-live="polite" data-testid="access-log-summary">
      {data.reads.length} {data.reads.length === 1 ? 'read' : 'reads'} · {proven} proven · {pending} not yet in a posted root
      {altered > 0 ? <span className="access-log-status--altered"> · {altered} altered</span> : null}
      {missing > 0 ? <span className="access-log-status--altered"> · {missing} missing</span> : null}
    </p>
  );
}

function MissingEntries({ data }: { data: AccessLogCheck }) {
  const short = data.roots.filter((r) => r.missing > 0);
  if (short.length === 0) return null;
  return (
    <div role="alert" className="error access-log-read--altered" data-testid="access-log-missing">
      <p>Entries are missing from the log the index shows you:</p>
      <ul>
        {short.map((r) => (
          <li key={`${r.member}:${r.root}`}>
            Committee member <code title={r.member}>{shortAddress(r.member)}</code> posted root <code title={r.root}>{shortAddress(r.root)}</code> for{' '}
            {r.count} {r.count === 1 ? 'entry' : 'entries'}, but only {r.held} {r.held === 1 ? 'is' : 'are'} shown: {r.missing} left out.
          </li>
        ))}
      </ul>
    </div>
  );
}

const STATUS_WORDS: Record<Read['status'], string> = {
  proven: 'proven',
  pending: 'not yet in a posted root',
  altered: 'altered',
};

function ReadCard({ config, read, now, summary }: { config: PublicConfig; read: Read; now: number; summary: string | undefined }) {
  const at = Math.floor(read.at / 1000);
  const roots = [...new Set(read.entries.flatMap((e) => (e.batchRoot ? [e.batchRoot] : [])))];
  return (
    <li className={`access-card access-log-read--${read.status}`} data-testid="access-read" data-status={read.status} data-record-id={read.recordId}>
      <p className="access-card__title">
        <strong>
          <code title={read.requester}>{shortAddress(read.requester)}</code> read {summary ? <>your {summary}</> : <>a {categoryLabel(read.category)} record</>}
        </strong>
      </p>
      <dl className="facts">
        <dt>Record</dt>
        <dd>
          {categoryLabel(read.category)} · <code title={read.recordId}>{shortAddress(read.recordId)}</code> version {read.version}
        </dd>
        <dt>Purpose</dt>
        <dd>{purposeLabel(read.purpose)}</dd>
        <dt>When</dt>
        <dd>
          {relativeTime(at, now)} ({absoluteTime(at)})
        </dd>
        <dt>Released by</dt>
        <dd>
          {read.members.length} {read.members.length === 1 ? 'gateway' : 'gateways'}:{' '}
          {read.members.map((m, i) => (
            <span key={m}>
              {i > 0 ? ', ' : ''}
              <code title={m}>{shortAddress(m)}</code>
            </span>
          ))}
        </dd>
        <dt>Log</dt>
        <dd data-testid="read-status">
          {read.status === 'altered' ? (
            <span className="access-log-status--altered">
              Altered: {read.entries.filter((e) => e.status === 'altered').map((e) => e.reason ?? 'its proof does not verify').join('; ')}
            </span>
          ) : read.status === 'pending' ? (
            <>
              {STATUS_WORDS.pending}
              {read.entries.some((e) => e.status === 'proven') ? ' for some gateways' : ''} (released{' '}
              {formatDuration(Math.round(Math.max(...read.entries.map((e) => e.ageMs ?? 0)) / 1000))} ago; gateways post every few seconds)
            </>
          ) : (
            <>
              proven against {roots.length === 1 ? 'root' : 'roots'}{' '}
              {roots.map((r, i) => (
                <span key={r}>
                  {i > 0 ? ', ' : ''}
                  <code title={r}>{shortAddress(r)}</code>
                </span>
              ))}{' '}
              posted on chain
            </>
          )}
        </dd>
        <dt>Receipts</dt>
        <dd className="receipt-list">
          {read.entries.map((e) => (
            <ReceiptButton
              key={e.id}
              label={`Audit event (FHIR) from ${shortAddress(e.member)}`}
              testId="release-receipt"
              fileName={receiptFileName('release', e.entryId)}
              build={() => releaseReceipt(GRAPHQL_PATH, config.chainId, e.id)}
              describe={(err) => describeError(err, { rpcUrl: config.rpcUrl, stage: 'reading' })}
            />
          ))}
        </dd>
      </dl>
    </li>
  );
}

function UnlockSummaries({ config, patient, wallet, onOpen }: { config: PublicConfig; patient: Address; wallet: Address; onOpen: () => void }) {
  const wagmi = useConfig();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const open = async () => {
    setBusy(true);
    setProblem(null);
    try {
      if (!keyFor(wallet)) rememberKey(wallet, deriveEncryptionKeyPair(await signTypedData(wagmi, { account: wallet, ...keyDerivationTypedData(config.chainId) })));
      await ensureSession(wagmi, wallet, config.chainId, patient);
      onOpen();
    } catch (err) {
      setProblem(describeError(err, { rpcUrl: config.rpcUrl, stage: 'signing' }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <button type="button" className="button" disabled={busy} onClick={() => void open()}>
        {busy ? 'Waiting for your wallet…' : 'Show what each record is'}
      </button>
      {problem ? (
        <p role="alert" className="error">
          {problem}
        </p>
      ) : null}
    </div>
  );
}
