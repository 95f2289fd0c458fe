import type { MetaFunction } from '@remix-run/node';
import { useLoaderData, useRevalidator, useRouteLoaderData } from '@remix-run/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Address } from 'viem';
import { useAccount, useConfig } from 'wagmi';
import { auditCsv, describeEvent } from '@consentry/sdk/research/audit';
import { IDLE, TxMessage, type TxState } from '../components/ClinicalRecords.tsx';
import { ConnectPanel } from '../components/ConnectWallet.tsx';
import { auditReportPdf } from '../lib/audit-report.ts';
import { chainClient } from '../lib/clinical.client.ts';
import { publicConfig } from '../lib/config.server.ts';
import { categoriesWanted, durationInWords } from '../lib/eligibility.ts';
import { describeError } from '../lib/errors.ts';
import {
  amountText,
  cohortSeries,
  DECISION_WORDS,
  decisionsFor,
  download,
  eventAmount,
  eventSubject,
  irbStanding,
  loadAudit,
  readTerms,
  reconcile,
  sendDecision,
  storeRationale,
  studyContext,
  type Audit,
  type Decision,
  type IrbStanding,
  type StudyTerms,
} from '../lib/irb.client.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import { listStudies, type StudyView } from '../lib/studies.server.ts';
import type { loader as rootLoader } from '../root.tsx';

export const meta: MetaFunction = () => [{ title: 'IRB review · Consentry' }];

interface LoaderData {
  studies: StudyView[];
  /** Why no study can be listed, in words; null when the list is what the chain says. */
  problem: string | null;
}

export async function loader(): Promise<LoaderData> {
  let registry: Address | null = null;
  try {
    registry = publicConfig().contracts?.StudyRegistry ?? null;
  } catch {
    return { studies: [], problem: 'The server configuration is invalid.' };
  }
  if (!registry) return { studies: [], problem: 'Studies are not deployed on this chain yet. Start Consentry with `npm start`.' };
  try {
    return { studies: await listStudies({ studyRegistry: registry }), problem: null };
  } catch (err) {
    const words = err instanceof Error ? ((err as { shortMessage?: string }).shortMessage ?? err.message.split('\n')[0]) : String(err);
    return { studies: [], problem: `The studies cannot be read from the chain right now: ${words}` };
  }
}

export default function IrbPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const data = useLoaderData<typeof loader>();
  const { address, status } = useAccount();
  // Kept here, not in each card: a decided study moves to another list and its card is remounted.
  const [decisions, setDecisions] = useState<Record<string, TxState>>({});
  if (!config) return null;
  const queue = data.studies.filter((s) => s.status === 'Pending');
  const open = data.studies.filter((s) => s.status === 'Approved' || s.status === 'Paused');
  // Rejected or suspended from this page: kept in view with the confirmation until the page is left.
  const closed = data.studies.filter((s) => !['Pending', 'Approved', 'Paused'].includes(s.status) && decisions[s.id]);
  const review = (s: StudyView) => (
    <StudyReview
      key={s.id}
      study={s}
      config={config}
      address={status === 'connected' ? address : undefined}
      tx={decisions[s.id] ?? IDLE}
      setTx={(t) => setDecisions((d) => ({ ...d, [s.id]: t }))}
    />
  );
  return (
    <div className="page">
      <h1>IRB review</h1>
      <p className="lead">
        Institutional review boards approve, reject or suspend research studies here, each decision with a written rationale whose
        SHA-256 goes on chain. Anyone may audit a study&apos;s consent trail: every decision, enrolment, revocation, purchase and payout,
        read from the chain alone, with totals that must reconcile.
      </p>
      {data.problem ? (
        <p role="alert" className="error" data-testid="studies-problem">
          {data.problem}
        </p>
      ) : null}
      <section aria-labelledby="irb-account" className="panel">
        <h2 id="irb-account">Your review board</h2>
        {status === 'connected' && address ? (
          <Standing key={address} config={config} address={address} />
        ) : status === 'reconnecting' || status === 'connecting' ? (
          <p role="status">Reconnecting your wallet…</p>
        ) : (
          <>
            <p>Connect the review board&apos;s wallet to decide on studies. Auditing needs no wallet.</p>
            <ConnectPanel config={config} />
          </>
        )}
      </section>
      <section aria-labelledby="irb-queue" className="panel">
        <h2 id="irb-queue">Studies waiting for review ({queue.length})</h2>
        {queue.length === 0 ? <p data-testid="queue-empty">No study is waiting for review.</p> : null}
        {queue.map(review)}
      </section>
      {open.length > 0 ? (
        <section aria-labelledby="irb-open" className="panel">
          <h2 id="irb-open">Approved studies ({open.length})</h2>
          <p className="muted">An accredited review board may suspend an approved or paused study, for good: it stops enrolment and sales.</p>
          {open.map(review)}
        </section>
      ) : null}
      {closed.length > 0 ? (
        <section aria-labelledby="irb-closed" className="panel">
          <h2 id="irb-closed">Decided just now</h2>
          {closed.map(review)}
        </section>
      ) : null}
      <AuditSection studies={data.studies} config={config} />
    </div>
  );
}

function useStanding(config: PublicConfig, address: Address | undefined) {
  const wagmi = useConfig();
  return useQuery({
    queryKey: ['irb-standing', address?.toLowerCase()],
    enabled: Boolean(address && config.contracts),
    queryFn: () => irbStanding(chainClient(wagmi, config.chainId), config.contracts!, address!),
  });
}

function Standing({ config, address }: { config: PublicConfig; address: Address }) {
  const standing = useStanding(config, address);
  return (
    <>
      <p>
        Account <code>{address}</code>
      </p>
      {standing.isPending ? <p role="status">Reading the organisation registry…</p> : null}
      {standing.error ? (
        <p role="alert" className="error">
          {describeError(standing.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}
      {standing.data ? (
        <p data-testid="irb-standing" data-can-decide={standing.data.canDecide} className={standing.data.canDecide ? 'notice' : undefined}>
          {standing.data.words}
        </p>
      ) : null}
    </>
  );
}

interface DecisionState {
  tx: TxState;
  setTx: (t: TxState) => void;
}

function StudyReview({ study, config, address, tx, setTx }: { study: StudyView; config: PublicConfig; address: Address | undefined } & DecisionState) {
  const wagmi = useConfig();
  const terms = useQuery({
    queryKey: ['irb-terms', study.id],
    enabled: Boolean(config.contracts),
    queryFn: () => readTerms(chainClient(wagmi, config.chainId), config.contracts!, BigInt(study.id)),
  });
  const standing = useStanding(config, address);
  const title = study.metadata?.title ?? `Study #${study.id}`;
  const headingId = `study-${study.id}-title`;
  return (
    <article className="panel" aria-labelledby={headingId} data-testid="study-review" data-study-id={study.id} data-status={study.status}>
      <h3 id={headingId}>
        {title} <span className="muted">· study #{study.id}</span>
      </h3>
      {study.metadata?.summary ? <p>{study.metadata.summary}</p> : null}
      <dl className="facts">
        <dt>Researcher</dt>
        <dd>
          <code>{study.researcher}</code>
        </dd>
        <dt>Status</dt>
        <dd data-testid="study-status">{terms.data?.status ?? study.status}</dd>
        <dt>Criteria</dt>
        <dd>
          {study.criteriaInWords.length > 0 ? (
            <ul data-testid="study-criteria">
              {study.criteriaInWords.map((c) => (
                <li key={c.criterion}>{c.text}</li>
              ))}
            </ul>
          ) : (
            'not shown'
          )}
        </dd>
        {terms.data ? <Terms terms={terms.data} /> : null}
      </dl>
      {terms.isPending ? <p role="status">Reading the study&apos;s terms from the chain…</p> : null}
      {terms.error ? (
        <p role="alert" className="error">
          {describeError(terms.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}
      {study.problem ? <p className="error">{study.problem}</p> : null}
      <Documents study={study} />
      {terms.data && standing.data ? <DecisionForm study={study} status={terms.data.status} standing={standing.data} config={config} address={address!} tx={tx} setTx={setTx} /> : null}
    </article>
  );
}

function Terms({ terms }: { terms: StudyTerms }) {
  const wanted = categoriesWanted(terms.categories);
  return (
    <>
      <dt>Records wanted</dt>
      <dd data-testid="terms-categories">{wanted.length > 0 ? wanted.join(', ') : 'none'}</dd>
      <dt>Paid to each participant per purchase</dt>
      <dd data-testid="terms-price">{terms.price}</dd>
      <dt>Smallest cohort sold (k)</dt>
      <dd data-testid="terms-k">{terms.minCohort} participants</dd>
      <dt>Most participants</dt>
      <dd data-testid="terms-max">{terms.maxParticipants.toLocaleString('en-GB')}</dd>
      <dt>Consent lasts</dt>
      <dd data-testid="terms-duration">{durationInWords(terms.consentDuration)}</dd>
    </>
  );
}

function Documents({ study }: { study: StudyView }) {
  return (
    <div data-testid="study-documents">
      {study.protocolText !== null ? (
        <>
          <h4 id={`protocol-${study.id}`}>Protocol</h4>
          <div className="document" role="document" tabIndex={0} aria-labelledby={`protocol-${study.id}`} data-testid="protocol-text">
            {study.protocolText.split(/\n{2,}/).map((para, i) => (
              <p key={i}>{para}</p>
            ))}
          </div>
        </>
      ) : (
        <p className="muted">The study registered no protocol.</p>
      )}
      {study.consentText !== null ? (
        <>
          <h4 id={`consent-${study.id}`}>Consent text</h4>
          <div className="document" role="document" tabIndex={0} aria-labelledby={`consent-${study.id}`} data-testid="consent-text">
            {study.consentText.split(/\n{2,}/).map((para, i) => (
              <p key={i}>{para}</p>
            ))}
          </div>
        </>
      ) : (
        <p className="muted">The study registered no consent text.</p>
      )}
      {study.documentProblem ? (
        <p className="error" data-testid="document-problem">
          {study.documentProblem}
        </p>
      ) : null}
    </div>
  );
}

function DecisionForm({
  study,
  status,
  standing,
  config,
  address,
  tx,
  setTx,
}: { study: StudyView; status: StudyTerms['status']; standing: IrbStanding; config: PublicConfig; address: Address } & DecisionState) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const revalidator = useRevalidator();
  const rationaleId = useId();
  const [rationale, setRationale] = useState('');
  const decisions = decisionsFor(status);
  if (decisions.length === 0) return tx.phase === 'idle' ? null : <TxMessage state={tx} testId="decision-status" />;
  if (!standing.canDecide) {
    return (
      <p className="muted" data-testid="cannot-decide">
        You cannot decide on this study from this account: {standing.words}
      </p>
    );
  }

  const decide = async (decision: Decision, e?: FormEvent) => {
    e?.preventDefault();
    const words = DECISION_WORDS[decision];
    if (!rationale.trim()) return setTx({ phase: 'failed', message: `Failed: write the rationale for your decision first; it is stored and its hash goes on chain with it.` });
    setTx({ phase: 'busy', message: 'Pending: storing the rationale (your wallet may ask you to sign in)…' });
    try {
      const hash = await storeRationale(wagmi, address, config.chainId, rationale);
      setTx({ phase: 'busy', message: `Pending: ${words.busy.toLowerCase()} study #${study.id}, waiting for the transaction to be mined…` });
      const r = await sendDecision(await studyContext(wagmi, config), decision, BigInt(study.id), hash);
      setTx({ phase: 'done', message: `Confirmed: ${words.done} study #${study.id} in block ${r.blockNumber} (transaction ${r.hash}); rationale hash ${hash}.` });
      setRationale('');
      await queryClient.invalidateQueries({ queryKey: ['irb-terms', study.id] });
      revalidator.revalidate();
    } catch (err) {
      setTx({ phase: 'failed', message: `Failed: ${describeError(err, { rpcUrl: config.rpcUrl, stage: 'transaction' })}` });
    }
  };

  return (
    <form className="clinical-form" onSubmit={(e) => decide(decisions[0]!, e)} data-testid="decision-form">
      <label htmlFor={rationaleId}>Rationale for your decision</label>
      <textarea id={rationaleId} rows={4} value={rationale} onChange={(e) => setRationale(e.target.value)} aria-describedby={`${rationaleId}-hint`} />
      <p id={`${rationaleId}-hint`} className="hint">
        The text is stored with the study&apos;s documents; its SHA-256 is recorded on chain with your decision, so anyone can check it later.
      </p>
      <div className="button-row">
        {decisions.map((d, i) => (
          <button
            key={d}
            type={i === 0 ? 'submit' : 'button'}
            className={i === 0 ? 'button button--primary' : 'button'}
            disabled={tx.phase === 'busy'}
            onClick={i === 0 ? undefined : () => decide(d)}
          >
            {DECISION_WORDS[d].button} study #{study.id}
          </button>
        ))}
      </div>
      <TxMessage state={tx} testId="decision-status" />
    </form>
  );
}

// ------------------------------------------------------------------------------------ the audit

function AuditSection({ studies, config }: { studies: StudyView[]; config: PublicConfig }) {
  const wagmi = useConfig();
  const selectId = useId();
  const [studyId, setStudyId] = useState(studies[0]?.id ?? '');
  const [requested, setRequested] = useState<string | null>(null);
  const audit = useQuery({
    queryKey: ['irb-audit', requested],
    enabled: requested !== null,
    staleTime: Infinity,
    queryFn: async () => {
      const client = chainClient(wagmi, config.chainId);
      const [a, terms] = await Promise.all([loadAudit(client, config, BigInt(requested!)), readTerms(client, config.contracts!, BigInt(requested!))]);
      return { ...a, terms };
    },
  });
  const study = studies.find((s) => s.id === requested);
  return (
    <section aria-labelledby="irb-audit" className="panel">
      <h2 id="irb-audit">Consent-trail audit</h2>
      {studies.length === 0 ? (
        <p>There is no study to audit yet.</p>
      ) : (
        <form
          className="clinical-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (requested === studyId) void audit.refetch();
            setRequested(studyId);
          }}
        >
          <label htmlFor={selectId}>Study to audit</label>
          <select id={selectId} value={studyId} onChange={(e) => setStudyId(e.target.value)} style={{ width: '100%', maxWidth: '36rem', minWidth: 0, font: 'inherit', padding: '0.4rem 0.5rem' }}>
            {studies.map((s) => (
              <option key={s.id} value={s.id}>
                #{s.id} {s.metadata?.title ?? ''} ({s.status})
              </option>
            ))}
          </select>
          <button type="submit" className="button button--primary" disabled={audit.isFetching}>
            Audit the consent trail
          </button>
        </form>
      )}
      {audit.isFetching ? <p role="status">Reading the study&apos;s trail from the chain…</p> : null}
      {audit.error ? (
        <p role="alert" className="error" data-testid="audit-error">
          The trail cannot be read: {describeError(audit.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}
      {audit.data && requested ? <AuditView audit={audit.data} terms={audit.data.terms} title={study?.metadata?.title ?? null} /> : null}
    </section>
  );
}

const timeText = (t: number) => new Date(t * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');

function AuditView({ audit, terms, title }: { audit: Audit; terms: StudyTerms; title: string | null }) {
  const { trail, bundle, problems } = audit;
  const amount = (v: string) => amountText(v, terms.token);
  const rows = reconcile(trail.totals, amount);
  const allOk = rows.every((r) => r.ok) && problems.length === 0;
  const series = cohortSeries(trail.events).map((p) => ({ ...p, label: timeText(p.time) }));
  const [pdf, setPdf] = useState<TxState>(IDLE);
  const base = `consent-trail-study-${trail.studyId}-block-${trail.auditBlock}`;

  const savePdf = async () => {
    setPdf({ phase: 'busy', message: 'Making the PDF report…' });
    try {
      const bytes = await auditReportPdf(bundle, { studyTitle: title, amount, reconciliation: rows });
      download(`${base}.pdf`, new Uint8Array(bytes), 'application/pdf');
      setPdf({ phase: 'done', message: `PDF report saved (${bytes.length.toLocaleString('en-GB')} bytes).` });
    } catch (err) {
      setPdf({ phase: 'failed', message: `The PDF report could not be made: ${err instanceof Error ? err.message : String(err)}` });
    }
  };

  return (
    <div data-testid="audit" data-study-id={trail.studyId} data-ok={allOk}>
      <h3>
        Study #{trail.studyId}
        {title ? `: ${title}` : ''}
      </h3>
      <p>
        At block {trail.auditBlock} ({timeText(trail.auditTime)}), block hash <code>{trail.auditBlockHash}</code>. Bundle SHA-256{' '}
        <code data-testid="audit-sha256">{bundle.sha256}</code>.
      </p>
      <p role="status" className={allOk ? 'notice' : 'error'} data-testid="audit-verdict">
        {allOk ? 'OK: every total reconciles and the trail is consistent.' : 'Mismatch: the totals or the trail do not add up (see below).'}
      </p>
      <table className="sim-table" data-testid="audit-totals">
        <caption className="visually-hidden">Totals and their identities</caption>
        <thead>
          <tr>
            <th scope="col">Check</th>
            <th scope="col">Identity</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name} data-testid="reconcile" data-ok={r.ok}>
              <th scope="row">{r.name}</th>
              <td>{r.text}</td>
              <td>
                <span className={r.ok ? 'badge badge--ok' : 'badge badge--warn'}>{r.ok ? 'OK' : 'Mismatch'}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {problems.length > 0 ? (
        <ul className="error" data-testid="audit-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      <div className="button-row">
        <button type="button" className="button" onClick={() => download(`${base}.csv`, auditCsv(trail), 'text/csv')}>
          Download CSV
        </button>
        <button type="button" className="button" onClick={() => download(`${base}.json`, `${JSON.stringify(bundle, null, 2)}\n`, 'application/json')}>
          Download JSON bundle
        </button>
        <button type="button" className="button" onClick={savePdf} disabled={pdf.phase === 'busy'}>
          Download PDF report
        </button>
      </div>
      <TxMessage state={pdf} testId="pdf-status" />
      <p className="hint">
        Check the JSON bundle against the chain with <code>consentry audit verify {base}.json</code>.
      </p>
      {series.length > 0 ? (
        <figure>
          <figcaption id="cohort-chart">Enrolled and active participants over time</figcaption>
          <div role="img" aria-labelledby="cohort-chart" style={{ width: '100%', height: 240 }}>
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={series} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="label" tick={false} />
                <YAxis allowDecimals={false} />
                <Tooltip />
                <Legend />
                <Line type="stepAfter" dataKey="enrolled" name="Enrolled" stroke="#0b5c53" isAnimationActive={false} />
                <Line type="stepAfter" dataKey="active" name="Active" stroke="#a3221b" isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </figure>
      ) : null}
      <h4 id="audit-events">Events ({trail.events.length})</h4>
      <div className="sim-table-wrap" role="region" aria-labelledby="audit-events" tabIndex={0}>
        <table className="sim-table" data-testid="audit-events">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Participant or subject (pseudonymous)</th>
              <th scope="col">Amount</th>
              <th scope="col">Transaction</th>
            </tr>
          </thead>
          <tbody>
            {trail.events.map((e) => {
              const a = eventAmount(e);
              return (
                <tr key={e.seq} data-kind={e.kind} title={describeEvent(e)}>
                  <td>{e.seq}</td>
                  <td>{timeText(e.timestamp)}</td>
                  <td>{e.kind}</td>
                  <td>
                    <code>{eventSubject(e)}</code>
                  </td>
                  <td>{a === null ? '' : amount(a)}</td>
                  <td>
                    {e.transactionHash === null ? (
                      'by time, no transaction'
                    ) : (
                      <code title={`Block ${e.blockNumber}, log ${e.logIndex}: ${e.transactionHash}`}>{`${e.transactionHash.slice(0, 10)}…${e.transactionHash.slice(-6)}`}</code>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
