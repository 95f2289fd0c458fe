import type { MetaFunction } from '@remix-run/node';
import { useRouteLoaderData } from '@remix-run/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import type { Address, Hex } from 'viem';
import { useAccount, useConfig } from 'wagmi';
import { categoriesOf, ORGANIZATION_KINDS, type ActionResult, type OrganizationKind } from '@consentry/sdk/access/actions';
import { CATEGORIES, type Category } from '@consentry/sdk/records/categories';
import { AccessLog } from '../components/AccessLog.tsx';
import { ConnectPanel } from '../components/ConnectWallet.tsx';
import { WebhookSetting } from '../components/WebhookSetting.tsx';
import {
  absoluteTime,
  approvalProblem,
  policyConflict,
  categoryLabel,
  durationChoices,
  eventLabel,
  isRecoveryEvent,
  recoveryWords,
  formatDuration,
  kindLabel,
  purposeLabel,
  relativeTime,
  shortAddress,
  type AccessEventRow,
  type AccessRequestRow,
  type BreakGlassRow,
  type GrantRow,
} from '../lib/access.ts';
import {
  fetchAccessOverview,
  fetchLiveAccess,
  fetchOrganization,
  runPatientAction,
  type AccessOverview,
  type PatientAction,
} from '../lib/access.client.ts';
import { describeError } from '../lib/errors.ts';
import { grantReceipt, ReceiptButton, receiptFileName } from '../lib/receipts.client.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import type { loader as rootLoader } from '../root.tsx';
import { usePatientAccount } from '../lib/use-patient-account.ts';

export const meta: MetaFunction = () => [{ title: 'Access · Consentry' }];

/** Blocks the index may trail the chain before the page says so (it waits for confirmations). */
const LAG_NOTICE_BLOCKS = 6;

export default function AccessPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const { address, status } = useAccount();
  if (!config) return null;
  return <AccessPageFor config={config} address={address} status={status} />;
}

/** The account the wallet acts for (its own, or one a recovery moved to it: decision 031) is what the page reads. */
function AccessPageFor({ config, address, status }: { config: PublicConfig; address: Address | undefined; status: string }) {
  const { account } = usePatientAccount(config, address);
  return (
    <div className="page access-page">
      <h1>Access</h1>
      <p className="lead">
        Who asks for your records, who may see them now, and who did. Every answer you give is a transaction on chain;
        the release committee checks it before any record leaves.
      </p>
      {status === 'connected' && address && account ? (
        <AccessWorkspace key={`${address}:${account}`} config={config} patient={account} wallet={address} />
      ) : (
        <section aria-labelledby="access-connect" className="panel">
          <h2 id="access-connect">Connect your wallet</h2>
          {status === 'reconnecting' || status === 'connecting' ? <p role="status">Reconnecting your wallet…</p> : <ConnectPanel config={config} />}
        </section>
      )}
    </div>
  );
}

function AccessWorkspace({ config, patient, wallet }: { config: PublicConfig; patient: Address; wallet: Address }) {
  const overview = useQuery({
    queryKey: ['access-overview', patient.toLowerCase()],
    queryFn: () => fetchAccessOverview(config, patient),
    refetchInterval: 2000,
    retry: false,
  });
  const data = overview.data;
  return (
    <>
      <IndexNotice overview={data} error={overview.error} config={config} />
      {overview.isPending ? <p role="status">Loading your access inbox…</p> : null}
      {data ? (
        <>
          <PendingRequests config={config} patient={patient} overview={data} />
          <ActiveAccess config={config} patient={patient} overview={data} />
          <History overview={data} />
          <AccessLog config={config} patient={patient} wallet={wallet} now={data.now} />
          <WebhookSetting config={config} patient={patient} wallet={wallet} />
          <PolicyPanel config={config} overview={data} />
        </>
      ) : null}
    </>
  );
}

/** The index's own words when it is the index that failed (the proxy says "The index is not answering"). */
const indexProblem = (err: Error, rpcUrl: string): string =>
  err.name === 'GraphQLRequestError' ? err.message.replace(/^The index rejected the query: /, '') : describeError(err, { rpcUrl, stage: 'reading' });

function IndexNotice({ overview, error, config }: { overview: AccessOverview | undefined; error: Error | null; config: PublicConfig }) {
  if (error && !overview) {
    return (
      <p role="alert" className="error" data-testid="index-problem">
        Your access inbox cannot be shown right now: {indexProblem(error, config.rpcUrl)}. Grants on chain
        still hold; this page tries again every few seconds.
      </p>
    );
  }
  if (error && overview) {
    return (
      <p className="notice" role="status" data-testid="index-problem">
        The index did not answer the last refresh ({indexProblem(error, config.rpcUrl)}): what you see below may be out of date.
      </p>
    );
  }
  if (overview && overview.indexLag > LAG_NOTICE_BLOCKS) {
    return (
      <p className="notice" role="status" data-testid="index-behind">
        The index is {overview.indexLag} blocks behind the chain: the newest requests and answers may not show yet.
      </p>
    );
  }
  return null;
}

/** One transaction's state, shown next to the buttons that send it. */
type TxState =
  | { phase: 'idle' }
  | { phase: 'pending'; what: string }
  | { phase: 'confirmed'; what: string; result: ActionResult }
  | { phase: 'failed'; what: string; problem: string };

function useTransaction(config: PublicConfig) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const [state, setState] = useState<TxState>({ phase: 'idle' });
  const send = async (what: string, action: PatientAction) => {
    setState({ phase: 'pending', what });
    try {
      const result = await runPatientAction(wagmi, config, action);
      setState({ phase: 'confirmed', what, result });
      await queryClient.invalidateQueries({ queryKey: ['access-overview'] });
      await queryClient.invalidateQueries({ queryKey: ['live-access'] });
    } catch (err) {
      setState({ phase: 'failed', what, problem: describeError(err, { rpcUrl: config.rpcUrl, stage: 'transaction' }) });
    }
  };
  return { state, send, busy: state.phase === 'pending' };
}

function TxStatus({ state }: { state: TxState }) {
  return (
    <div className="tx-status">
      <p role="status" aria-live="polite" data-testid="tx-status" data-phase={state.phase}>
        {state.phase === 'pending' ? `${state.what}: sending the transaction and waiting for the chain…` : null}
        {state.phase === 'confirmed' ? (
          <>
            {state.what}: confirmed in block {state.result.blockNumber.toString()} ·{' '}
            <code title={state.result.hash}>{shortHash(state.result.hash)}</code>
          </>
        ) : null}
      </p>
      {state.phase === 'failed' ? (
        <p role="alert" className="error">
          {state.what} failed: {state.problem}
        </p>
      ) : null}
    </div>
  );
}

const shortHash = (h: Hex | string) => `${h.slice(0, 10)}…${h.slice(-6)}`;

function Organization({ config, address }: { config: PublicConfig; address: Address }) {
  const org = useQuery({ queryKey: ['organization', address.toLowerCase()], queryFn: () => fetchOrganization(config, address), staleTime: 30_000 });
  return (
    <span className="org" data-testid="organization">
      <code title={address}>{shortAddress(address)}</code>
      {org.data ? (
        <>
          {' · '}
          {org.data.registered ? kindLabel(org.data.kind) : 'not a registered organisation'}
          {' · '}
          {org.data.accredited ? (
            <span className="badge badge--ok">accredited until {absoluteTime(Number(org.data.accreditedUntil))}</span>
          ) : (
            <span className="badge badge--warn">not accredited</span>
          )}
        </>
      ) : org.error ? (
        <span className="muted"> · organisation unknown ({describeError(org.error, { rpcUrl: config.rpcUrl, stage: 'reading' })})</span>
      ) : null}
    </span>
  );
}

function CategoryList({ mask, categories }: { mask?: number; categories?: readonly string[] }) {
  const list = categories ?? categoriesOf(mask ?? 0);
  return <span className="category-list">{list.length > 0 ? list.map(categoryLabel).join(', ') : 'none'}</span>;
}

function PendingRequests({ config, patient, overview }: { config: PublicConfig; patient: Address; overview: AccessOverview }) {
  return (
    <section className="panel" aria-labelledby="pending-title" data-testid="pending-requests">
      <h2 id="pending-title">
        Requests waiting for you {overview.pending.length > 0 ? <span className="badge">{overview.pending.length}</span> : null}
      </h2>
      {overview.pending.length === 0 ? <p className="muted">No requests are waiting. New ones appear here by themselves.</p> : null}
      <ul className="access-list">
        {overview.pending.map((r) => (
          <RequestCard key={r.requestId} config={config} patient={patient} request={r} now={overview.now} policy={overview.chainPolicy} />
        ))}
      </ul>
    </section>
  );
}

function RequestCard({
  config,
  request,
  now,
  policy,
}: {
  config: PublicConfig;
  patient: Address;
  request: AccessRequestRow;
  now: number;
  policy: AccessOverview['chainPolicy'];
}) {
  const id = useId();
  const asked = categoriesOf(request.categories);
  const org = useQuery({ queryKey: ['organization', request.requester.toLowerCase()], queryFn: () => fetchOrganization(config, request.requester), staleTime: 30_000 });
  const conflict = policyConflict(policy, asked, org.data?.kind);
  const [chosen, setChosen] = useState<Set<Category>>(() => new Set(asked));
  const choices = durationChoices(request.duration);
  const [duration, setDuration] = useState(request.duration);
  const tx = useTransaction(config);
  const answered = tx.state.phase === 'confirmed';
  const selected = CATEGORIES.filter((c) => chosen.has(c));
  const problem = approvalProblem({ categories: request.categories, duration: request.duration }, { categories: selected, durationSeconds: duration });
  const titleId = `${id}-title`;

  const approve = (e: FormEvent) => {
    e.preventDefault();
    if (problem) return;
    void tx.send('Approve', { kind: 'approve', requestId: BigInt(request.requestId), categories: selected, durationSeconds: duration });
  };

  return (
    <li className="access-card" data-testid="access-request" data-request-id={request.requestId} aria-labelledby={titleId}>
      <h3 id={titleId} className="access-card__title">
        Request #{request.requestId}
      </h3>
      <dl className="facts">
        <dt>Who</dt>
        <dd>
          <Organization config={config} address={request.requester} />
        </dd>
        <dt>Asks for</dt>
        <dd data-testid="asked-categories">
          <CategoryList mask={request.categories} />
        </dd>
        <dt>Purpose</dt>
        <dd>{purposeLabel(request.purpose)}</dd>
        <dt>For</dt>
        <dd data-testid="asked-duration">{formatDuration(request.duration)}</dd>
        <dt>Asked</dt>
        <dd>
          {relativeTime(request.createdAtTimestamp, now)} ({absoluteTime(request.createdAtTimestamp)})
        </dd>
      </dl>
      {conflict ? (
        <p className="notice" data-testid="policy-conflict">
          {conflict}
        </p>
      ) : null}
      <form onSubmit={approve} className="access-answer" aria-label={`Answer request #${request.requestId}`}>
        <fieldset className="category-boxes">
          <legend>Categories to share (uncheck to share less)</legend>
          {asked.map((c) => (
            <label key={c} className="check">
              <input
                type="checkbox"
                checked={chosen.has(c)}
                disabled={tx.busy || answered}
                onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.target.checked) next.add(c);
                  else next.delete(c);
                  setChosen(next);
                }}
              />
              {c}
            </label>
          ))}
        </fieldset>
        <label htmlFor={`${id}-duration`}>Share for</label>
        <select id={`${id}-duration`} value={duration} disabled={tx.busy || answered} onChange={(e) => setDuration(Number(e.target.value))}>
          {choices.map((c) => (
            <option key={c.seconds} value={c.seconds}>
              {c.label}
            </option>
          ))}
        </select>
        {problem ? (
          <p className="error" data-testid="approval-problem">
            {problem}
          </p>
        ) : null}
        <div className="button-row">
          <button type="submit" className="button button--primary" disabled={tx.busy || answered || problem !== null}>
            Approve
          </button>
          <button
            type="button"
            className="button danger"
            disabled={tx.busy || answered}
            onClick={() => void tx.send('Deny', { kind: 'deny', requestId: BigInt(request.requestId) })}
          >
            Deny
          </button>
        </div>
        <TxStatus state={tx.state} />
      </form>
    </li>
  );
}

function ActiveAccess({ config, patient, overview }: { config: PublicConfig; patient: Address; overview: AccessOverview }) {
  return (
    <section className="panel" aria-labelledby="active-title" data-testid="active-access">
      <h2 id="active-title">Who may see your records now</h2>
      {overview.activeGrants.length === 0 && overview.openBreakGlass.length === 0 ? <p className="muted">Nobody: no grant is active and no emergency access is open.</p> : null}
      {overview.activeGrants.length > 0 ? (
        <>
          <h3>Grants</h3>
          <ul className="access-list">
            {overview.activeGrants.map((g) => (
              <GrantCard key={g.grantee} config={config} patient={patient} grant={g} now={overview.now} events={overview.events} />
            ))}
          </ul>
        </>
      ) : null}
      {overview.openBreakGlass.length > 0 ? (
        <>
          <h3>Emergency access (break-glass)</h3>
          <ul className="access-list">
            {overview.openBreakGlass.map((w) => (
              <BreakGlassCard key={w.provider} config={config} patient={patient} window={w} now={overview.now} />
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function useLiveAccess(config: PublicConfig, patient: Address, grantee: Address) {
  return useQuery({
    queryKey: ['live-access', patient.toLowerCase(), grantee.toLowerCase()],
    queryFn: () => fetchLiveAccess(config, patient, grantee),
    refetchInterval: 5000,
  });
}

function GrantCard({ config, patient, grant, now, events }: { config: PublicConfig; patient: Address; grant: GrantRow; now: number; events: readonly AccessEventRow[] }) {
  const tx = useTransaction(config);
  const live = useLiveAccess(config, patient, grant.grantee);
  const titleId = useId();
  const hidden = live.data ? categoriesOf(grant.categories).filter((c) => !live.data.liveCategories.includes(c)) : [];
  return (
    <li className="access-card" data-testid="grant" data-grantee={grant.grantee} aria-labelledby={titleId}>
      <h4 id={titleId} className="access-card__title">
        Grant to <code title={grant.grantee}>{shortAddress(grant.grantee)}</code>
      </h4>
      <dl className="facts">
        <dt>Who</dt>
        <dd>
          <Organization config={config} address={grant.grantee} />
        </dd>
        <dt>Categories</dt>
        <dd data-testid="grant-categories">
          <CategoryList mask={grant.categories} />
          {hidden.length > 0 ? <span className="muted"> (not visible now: {hidden.map(categoryLabel).join(', ')}, by your policy or their accreditation)</span> : null}
        </dd>
        <dt>Purpose</dt>
        <dd>{purposeLabel(grant.purpose)}</dd>
        <dt>Expires</dt>
        <dd data-testid="grant-expiry">
          {relativeTime(grant.expiresAt, now)} ({absoluteTime(grant.expiresAt)})
        </dd>
      </dl>
      <div className="button-row">
        <button type="button" className="button danger" disabled={tx.busy || tx.state.phase === 'confirmed'} onClick={() => void tx.send('Revoke', { kind: 'revoke', grantee: grant.grantee })}>
          Revoke
        </button>
        <ReceiptButton
          label="Consent receipt (FHIR)"
          testId="grant-receipt"
          fileName={receiptFileName('grant', grant.requestId)}
          build={() => grantReceipt({ chainId: config.chainId, patient, grant, events, now })}
          describe={(err) => describeError(err, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        />
      </div>
      <TxStatus state={tx.state} />
    </li>
  );
}

function BreakGlassCard({ config, patient, window: w, now }: { config: PublicConfig; patient: Address; window: BreakGlassRow; now: number }) {
  const tx = useTransaction(config);
  const titleId = useId();
  return (
    <li className="access-card access-card--alert" data-testid="break-glass" data-provider={w.provider} aria-labelledby={titleId}>
      <h4 id={titleId} className="access-card__title">
        Emergency access by <code title={w.provider}>{shortAddress(w.provider)}</code>
      </h4>
      <dl className="facts">
        <dt>Who</dt>
        <dd>
          <Organization config={config} address={w.provider} />
        </dd>
        <dt>Opened</dt>
        <dd>
          {relativeTime(w.openedAt, now)} ({absoluteTime(w.openedAt)}){w.openings > 1 ? `, ${w.openings} times in all` : ''}
        </dd>
        <dt>Categories</dt>
        <dd>
          <CategoryList mask={w.categories} />
        </dd>
        <dt>Reason (hash)</dt>
        <dd>
          <code title={w.reasonHash}>{shortHash(w.reasonHash)}</code>
        </dd>
        <dt>Expires</dt>
        <dd>
          {relativeTime(w.expiresAt, now)} ({absoluteTime(w.expiresAt)})
        </dd>
      </dl>
      <div className="button-row">
        <button
          type="button"
          className="button danger"
          disabled={tx.busy || tx.state.phase === 'confirmed'}
          onClick={() => void tx.send('Close', { kind: 'close-break-glass', patient, provider: w.provider })}
        >
          Close
        </button>
      </div>
      <TxStatus state={tx.state} />
    </li>
  );
}

function eventDetail(e: AccessEventRow): ReactNode {
  switch (e.kind) {
    case 'REQUEST_APPROVED':
      return (
        <>
          <CategoryList mask={e.categories ?? 0} />
          {e.expiresAt ? ` until ${absoluteTime(e.expiresAt)}` : ''}
        </>
      );
    case 'BREAK_GLASS_OPENED':
      return (
        <>
          <CategoryList mask={e.categories ?? 0} />
          {e.expiresAt ? ` until ${absoluteTime(e.expiresAt)}` : ''}
          {e.reasonHash ? (
            <>
              {' · reason '}
              <code title={e.reasonHash}>{shortHash(e.reasonHash)}</code>
            </>
          ) : null}
        </>
      );
    case 'BREAK_GLASS_CLOSED':
      return e.actor === e.organization ? 'closed by the provider' : 'closed by you';
    default:
      return e.requestId !== null ? `request #${e.requestId}` : null;
  }
}

function History({ overview }: { overview: AccessOverview }) {
  return (
    <section className="panel" aria-labelledby="history-title" data-testid="access-history">
      <h2 id="history-title">Recent events</h2>
      {overview.events.length === 0 ? <p className="muted">Nothing has happened yet.</p> : null}
      <ol className="access-events">
        {overview.events.map((e) => (
          <li key={e.id} data-testid="access-event" data-kind={e.kind} className={e.kind.startsWith('BREAK_GLASS') || isRecoveryEvent(e.kind) ? 'access-event access-event--alert' : 'access-event'}>
            {isRecoveryEvent(e.kind) ? (
              <strong>{recoveryWords(e)}</strong>
            ) : (
              <>
                <strong>{eventLabel(e.kind)}</strong> · <code title={e.organization}>{shortAddress(e.organization)}</code> · {eventDetail(e)}
              </>
            )}
            <span className="muted small">
              {' '}
              · {relativeTime(e.blockTimestamp, overview.now)} ({absoluteTime(e.blockTimestamp)}) · block {e.blockNumber}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function PolicyPanel({ config, overview }: { config: PublicConfig; overview: AccessOverview }) {
  const [neverShare, setNeverShare] = useState<Set<Category>>(() => new Set(overview.chainPolicy.neverShare));
  const [banned, setBanned] = useState<Set<OrganizationKind>>(() => new Set(overview.chainPolicy.bannedKinds));
  const [edited, setEdited] = useState(false);
  const tx = useTransaction(config);
  const onChain = `${overview.chainPolicy.neverShare.join()}|${overview.chainPolicy.bannedKinds.join()}`;
  // Follow the chain (another tab, or this save confirmed) unless the patient is editing.
  useEffect(() => {
    if (edited) return;
    setNeverShare(new Set(overview.chainPolicy.neverShare));
    setBanned(new Set(overview.chainPolicy.bannedKinds));
  }, [onChain, edited]);
  useEffect(() => {
    if (tx.state.phase === 'confirmed') setEdited(false);
  }, [tx.state.phase]);
  const toggle = <T,>(set: Set<T>, item: T, on: boolean) => {
    setEdited(true);
    const next = new Set(set);
    if (on) next.add(item);
    else next.delete(item);
    return next;
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    void tx.send('Save policy', { kind: 'set-policy', neverShare: CATEGORIES.filter((c) => neverShare.has(c)), bannedKinds: ORGANIZATION_KINDS.map((k) => k.code).filter((k) => banned.has(k)) });
  };
  const current = overview.chainPolicy;
  return (
    <section className="panel" aria-labelledby="policy-title" data-testid="policy">
      <h2 id="policy-title">Your sharing policy</h2>
      <p data-testid="current-policy">
        Now on chain:{' '}
        {current.neverShare.length > 0 ? (
          <>
            you never share <strong>{current.neverShare.map(categoryLabel).join(', ')}</strong>
          </>
        ) : (
          'no category is withheld'
        )}
        ;{' '}
        {current.bannedKinds.length > 0 ? (
          <>
            you refuse every <strong>{current.bannedKinds.map((k) => kindLabel(k).toLowerCase()).join(', ')}</strong>
          </>
        ) : (
          'no kind of organisation is refused'
        )}
        . A change applies at once to every request, grant and emergency access.
      </p>
      <form onSubmit={save} aria-label="Sharing policy">
        <fieldset className="category-boxes" aria-describedby="never-share-hint">
          <legend>Never share</legend>
          <p id="never-share-hint" className="muted small policy-hint">
            Nobody can ask for these, and no grant or emergency access opens them.
          </p>
          {CATEGORIES.map((c) => (
            <label key={c} className="check">
              <input type="checkbox" checked={neverShare.has(c)} disabled={tx.busy} onChange={(e) => setNeverShare(toggle(neverShare, c, e.target.checked))} />
              {c}
            </label>
          ))}
        </fieldset>
        <fieldset className="category-boxes">
          <legend>Never allow</legend>
          {ORGANIZATION_KINDS.map((k) => (
            <label key={k.code} className="check">
              <input type="checkbox" checked={banned.has(k.code)} disabled={tx.busy} onChange={(e) => setBanned(toggle(banned, k.code, e.target.checked))} />
              {k.label}
            </label>
          ))}
        </fieldset>
        <div className="button-row">
          <button type="submit" className="button button--primary" disabled={tx.busy}>
            Save policy
          </button>
        </div>
        <TxStatus state={tx.state} />
      </form>
    </section>
  );
}
