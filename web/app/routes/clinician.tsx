import type { MetaFunction } from '@remix-run/node';
import { useRouteLoaderData } from '@remix-run/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { getAddress, isAddress, type Address } from 'viem';
import { useAccount, useConfig } from 'wagmi';
import { categoriesOf, PURPOSES, readAccess, requestAccess, type PurposeCode } from '@consentry/sdk/access/actions';
import { CATEGORIES, type Category } from '@consentry/sdk/records/categories';
import { ClinicalRecords, IDLE, runTx, TxMessage, categoryLabel, type TxState } from '../components/ClinicalRecords.tsx';
import { ConnectPanel, shortAddress } from '../components/ConnectWallet.tsx';
import { actionContext, chainClient, fetchRequestsBy, type IndexedRequest } from '../lib/clinical.client.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import type { loader as rootLoader } from '../root.tsx';

export const meta: MetaFunction = () => [{ title: 'Clinician · Consentry' }];

const DAY = 86_400;
const when = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

export default function ClinicianPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const { address, status } = useAccount();
  if (!config) return null;
  return (
    <div className="page">
      <h1>Clinician</h1>
      <p className="lead">
        Ask a patient for categories of their records, see what they granted, and read granted records. Records are released by the
        committee and decrypted in this browser; the server never sees them.
      </p>
      {status === 'connected' && address ? (
        <ClinicianWorkspace key={address} config={config} address={address} />
      ) : (
        <section aria-labelledby="clin-connect" className="panel">
          <h2 id="clin-connect">Connect your organisation's wallet</h2>
          {status === 'reconnecting' || status === 'connecting' ? <p role="status">Reconnecting your wallet…</p> : <ConnectPanel config={config} />}
        </section>
      )}
    </div>
  );
}

function ClinicianWorkspace({ config, address }: { config: PublicConfig; address: Address }) {
  const requests = useQuery({ queryKey: ['my-requests', address.toLowerCase()], queryFn: () => fetchRequestsBy(address), refetchInterval: 3000 });
  const patients = [...new Set((requests.data ?? []).map((r) => r.patient))] as Address[];
  return (
    <>
      <RequestForm config={config} />
      <section className="panel" aria-labelledby="my-requests">
        <h2 id="my-requests">My requests and grants</h2>
        {requests.isPending ? <p role="status">Loading your requests…</p> : null}
        {requests.error ? (
          <p role="alert" className="error">
            {requests.error.message}
          </p>
        ) : null}
        {requests.data && requests.data.length === 0 ? <p>No requests yet.</p> : null}
        <ul className="request-list">
          {requests.data?.map((r) => <RequestRow key={String(r.requestId)} request={r} />)}
        </ul>
      </section>
      {patients.length > 0 ? (
        <section className="panel" aria-labelledby="shared-with-me">
          <h2 id="shared-with-me">Patients' records</h2>
          {patients.map((p) => (
            <PatientBlock key={p} config={config} account={address} patient={getAddress(p)} />
          ))}
        </section>
      ) : null}
    </>
  );
}

function RequestRow({ request: r }: { request: IndexedRequest }) {
  const status = r.status.toLowerCase();
  return (
    <li className="request-row" data-testid="request-row" data-request-id={String(r.requestId)} data-status={status} data-patient={r.patient}>
      <span className="request-title">Request #{String(r.requestId)}</span> to <code>{shortAddress(r.patient)}</code>:{' '}
      <span className="badge">{status}</span> · asked {categoriesOf(r.categories).map(categoryLabel).join(', ')} for{' '}
      {PURPOSES[r.purpose]?.label.toLowerCase() ?? 'an unknown purpose'}, {Math.round(Number(r.duration) / DAY)} days
      {status === 'approved' ? (
        <>
          {' '}
          · granted {categoriesOf(r.approvedCategories).map(categoryLabel).join(', ')} until {when(r.expiresAt)}
        </>
      ) : null}
    </li>
  );
}

/** One patient: what the chain says is live now (chain time), and the record list on demand. */
function PatientBlock({ config, account, patient }: { config: PublicConfig; account: Address; patient: Address }) {
  const wagmi = useConfig();
  const [open, setOpen] = useState(false);
  const access = useQuery({
    queryKey: ['access', patient.toLowerCase(), account.toLowerCase()],
    enabled: Boolean(config.contracts?.AccessGrants && config.contracts.OrganizationRegistry),
    refetchInterval: 5000,
    queryFn: () =>
      readAccess(chainClient(wagmi, config.chainId), { AccessGrants: config.contracts!.AccessGrants!, OrganizationRegistry: config.contracts!.OrganizationRegistry! }, patient, account),
  });
  const a = access.data;
  const headingId = useId();
  return (
    <section className="patient-block" aria-labelledby={headingId} data-testid="patient-block" data-patient={patient.toLowerCase()}>
      <h3 id={headingId}>
        Patient <code>{patient}</code>
      </h3>
      {a ? (
        <p data-testid="grant-state">
          {a.grant.expiresAt === 0n
            ? 'No grant.'
            : a.grant.live
              ? `Grant: ${a.grant.categories.map(categoryLabel).join(', ')} until ${when(a.grant.expiresAt)} (chain time).`
              : `Grant expired at ${when(a.grant.expiresAt)} (chain time).`}{' '}
          {a.breakGlass.open ? `Break-glass open until ${when(a.breakGlass.expiresAt)}.` : ''} Live now:{' '}
          {a.liveCategories.length ? a.liveCategories.map(categoryLabel).join(', ') : 'nothing'}.
        </p>
      ) : null}
      {open ? (
        <ClinicalRecords config={config} account={account} patient={patient} />
      ) : (
        <button type="button" className="button" onClick={() => setOpen(true)}>
          Show records
        </button>
      )}
    </section>
  );
}

function RequestForm({ config }: { config: PublicConfig }) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const ids = { patient: useId(), purpose: useId(), days: useId(), cats: useId() };
  const [patient, setPatient] = useState('');
  const [categories, setCategories] = useState<Category[]>([]);
  const [purpose, setPurpose] = useState<PurposeCode>('TREAT');
  const [days, setDays] = useState('7');
  const [tx, setTx] = useState<TxState>(IDLE);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = patient.trim();
    if (!isAddress(trimmed, { strict: false })) return setTx({ phase: 'failed', message: 'The patient address must be 0x followed by 40 hex digits' });
    if (categories.length === 0) return setTx({ phase: 'failed', message: 'Choose at least one category' });
    const n = Number(days);
    if (!Number.isFinite(n) || n <= 0 || n > 3650) return setTx({ phase: 'failed', message: 'The duration must be a number of days from 1 to 3650' });
    const ok = await runTx(
      setTx,
      'Sending the request…',
      async () => {
        const r = await requestAccess(await actionContext(wagmi, config.chainId, config.contracts), {
          patient: getAddress(trimmed),
          categories: CATEGORIES.filter((c) => categories.includes(c)),
          purpose,
          durationSeconds: Math.round(n * DAY),
        });
        return `Request #${r.requestId} sent (block ${r.blockNumber}). The patient is notified and will approve or deny it.`;
      },
      config.rpcUrl,
    );
    if (ok) await queryClient.invalidateQueries({ queryKey: ['my-requests'] });
  };

  return (
    <section className="panel" aria-labelledby="request-title">
      <h2 id="request-title">Request access</h2>
      <form className="clinical-form" onSubmit={submit} noValidate>
        <label htmlFor={ids.patient}>Patient address</label>
        <input id={ids.patient} value={patient} onChange={(e) => setPatient(e.target.value)} placeholder="0x…" autoComplete="off" spellCheck={false} />
        <fieldset className="category-boxes">
          <legend>Categories</legend>
          {CATEGORIES.map((c) => (
            <label key={c} className="check">
              <input
                type="checkbox"
                checked={categories.includes(c)}
                onChange={(e) => setCategories((cs) => (e.target.checked ? [...cs, c] : cs.filter((x) => x !== c)))}
              />{' '}
              {c}
            </label>
          ))}
        </fieldset>
        <label htmlFor={ids.purpose}>Purpose</label>
        <select id={ids.purpose} value={purpose} onChange={(e) => setPurpose(e.target.value as PurposeCode)}>
          {PURPOSES.map((p) => (
            <option key={p.code} value={p.code}>
              {p.label}
            </option>
          ))}
        </select>
        <label htmlFor={ids.days}>Duration (days)</label>
        <input id={ids.days} type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} />
        <button type="submit" className="button button--primary" disabled={tx.phase === 'busy'}>
          Request access
        </button>
      </form>
      <TxMessage state={tx} testId="request-result" />
    </section>
  );
}
