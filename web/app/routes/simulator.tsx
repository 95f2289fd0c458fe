import type { MetaFunction } from '@remix-run/node';
import { useRouteLoaderData } from '@remix-run/react';
import { useEffect, useRef, useState } from 'react';
import { purposeCode, categoriesOf } from '@consentry/sdk/access/actions';
import { ConsentryError } from '@consentry/sdk/errors';
import { describeError } from '../lib/errors.ts';
import { LOCAL_CHAIN_ID, type PublicConfig } from '../lib/public-config.ts';
import type { Cast, ChainNow, PaneNote, RunState, StepDef, StepResult, TxView } from '../lib/simulator.client.ts';
import type { loader as rootLoader } from '../root.tsx';

export const meta: MetaFunction = () => [{ title: 'Access Simulator · Consentry' }];

// The simulator module derives development keys and talks to the chain: browser only, loaded on mount.
type SimulatorModule = typeof import('../lib/simulator.client.ts');

export default function SimulatorPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  if (!config) return null;
  return (
    <div className="page sim">
      <h1>Access Simulator</h1>
      <p className="lead">
        A live walk through clinical sharing on the local chain, with the patient and a clinician side by side: upload,
        request, notification, approval, release and decryption, refusal, revocation, the audit trail and break-glass.
        Every step sends real transactions and real releases; nothing is simulated but the people.
      </p>
      {config.chainId === LOCAL_CHAIN_ID ? (
        <Simulator config={config} />
      ) : (
        <p className="notice" role="status">
          The Access Simulator runs on the local development chain (31337) only, because it plays several development
          accounts at once. This app is configured for chain {config.chainId || 'none'}.
        </p>
      )}
    </div>
  );
}

interface Done {
  step: StepDef;
  result: StepResult;
  chain: ChainNow | null;
  chainProblem?: string;
}

/** A failure in words: the simulator's, the clinical read's and the API's errors already are. */
function problemOf(err: unknown, rpcUrl: string): string {
  const e = err as { name?: string; message?: string };
  if (err instanceof ConsentryError || ['SimulatorError', 'ClinicalReadError', 'GatewaysUnavailableError', 'ApiCallError', 'ShareError'].includes(e?.name ?? '')) {
    return e.message ?? String(err);
  }
  // The record store's and the index's errors carry a stable string code and a message in words (viem's have a shortMessage instead).
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && !('shortMessage' in err)) return err.message;
  return describeError(err, { rpcUrl, stage: 'transaction' });
}

function Simulator({ config }: { config: PublicConfig }) {
  const [mod, setMod] = useState<SimulatorModule | null>(null);
  const [cast, setCast] = useState<Cast | null>(null);
  const [setupProblem, setSetupProblem] = useState<string | null>(null);
  const state = useRef<RunState | null>(null);
  const [next, setNext] = useState(0);
  const [done, setDone] = useState<Done[]>([]);
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<string>('');
  const [problem, setProblem] = useState<string | null>(null);
  const [resets, setResets] = useState<TxView[]>([]);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setSetupProblem(null);
    import('../lib/simulator.client.ts')
      .then(async (m) => {
        const c = await m.createCast(config);
        if (!live) return;
        state.current ??= m.newRun();
        setMod(m);
        setCast(c);
      })
      .catch((err: unknown) => live && setSetupProblem(problemOf(err, config.rpcUrl)));
    return () => {
      live = false;
    };
  }, [config, attempt]);

  if (setupProblem) {
    return (
      <div className="panel">
        <p role="alert" className="error">
          {setupProblem}
        </p>
        <button type="button" className="button" onClick={() => setAttempt((a) => a + 1)}>
          Try again
        </button>
      </div>
    );
  }
  if (!mod || !cast || !state.current) return <p role="status">Preparing the simulator’s accounts in this page…</p>;

  const steps = mod.STEPS;
  const current = steps[next];

  const runStep = async () => {
    if (!current || running) return;
    setRunning(true);
    setProblem(null);
    setProgress(`${current.title}…`);
    try {
      const result = await current.run({ cast, state: state.current!, progress: setProgress });
      let chain: ChainNow | null = null;
      let chainProblem: string | undefined;
      try {
        chain = await mod.readChainNow(cast);
      } catch (err) {
        chainProblem = problemOf(err, config.rpcUrl);
      }
      setDone((d) => [...d, { step: current, result, chain, ...(chainProblem ? { chainProblem } : {}) }]);
      setNext((n) => n + 1);
      setProgress(`Done: ${current.title}.`);
    } catch (err) {
      setProblem(problemOf(err, config.rpcUrl));
      setProgress(`Failed: ${current.title}.`);
    } finally {
      setRunning(false);
    }
  };

  const startOver = async () => {
    setRunning(true);
    setProblem(null);
    setProgress('Starting over: ending what the last run left open…');
    try {
      const sent = await mod.resetAccess(cast, setProgress);
      state.current = { ...mod.newRun(), ...(state.current?.patientKeys ? { patientKeys: state.current.patientKeys } : {}) };
      setResets(sent);
      setDone([]);
      setNext(steps.findIndex((s) => s.id === 'upload'));
      setProgress(`Started over with the same accounts${sent.length ? ` (${sent.length} transactions to end the last run's access)` : ''}; the next upload uses new records.`);
    } catch (err) {
      setProblem(problemOf(err, config.rpcUrl));
    } finally {
      setRunning(false);
    }
  };

  const patientNotes = done.flatMap((d) => d.result.patient.map((n) => ({ n, step: d.step })));
  const clinicianNotes = done.flatMap((d) => d.result.clinician.map((n) => ({ n, step: d.step })));
  const latestChain = [...done].reverse().find((d) => d.chain)?.chain ?? null;

  return (
    <>
      <p className="notice">
        <strong>Local chain only.</strong> This page acts as development accounts derived in your browser from anvil’s
        public test mnemonic: the patient (account {cast.patient.index}), {cast.clinic.name} ({cast.clinic.index}),{' '}
        {cast.emergency.name} ({cast.emergency.index}), {cast.insurer.name} ({cast.insurer.index}), and, only if the
        organisations still need accrediting, anvil account 0 as the <em>local accreditor</em>. Your connected wallet is
        not used. Records are synthetic. Signing the simulator in replaces this browser’s record-store session.
      </p>

      <section className="panel sim-controls" aria-labelledby="sim-steps-title">
        <h2 id="sim-steps-title">Steps</h2>
        <ol className="steps sim-steps">
          {steps.map((s, i) => (
            <li key={s.id} data-state={i < next ? 'done' : i === next ? (problem ? 'failed' : 'active') : 'todo'} aria-current={i === next ? 'step' : undefined}>
              {s.title} <span className="muted small">({s.actor})</span>
            </li>
          ))}
        </ol>
        <div className="button-row">
          {current ? (
            <button type="button" className="button button--primary" onClick={() => void runStep()} disabled={running} data-testid="sim-next" data-step={current.id}>
              {running ? `Working: ${current.title}…` : problem ? 'Retry this step' : `Next: ${current.title}`}
            </button>
          ) : null}
          {next > 0 ? (
            <button type="button" className="button" onClick={() => void startOver()} disabled={running} data-testid="sim-start-over">
              Start over
            </button>
          ) : null}
        </div>
        <p role="status" aria-live="polite" className="sim-progress" data-testid="sim-progress" data-running={running ? 'true' : 'false'}>
          {progress}
        </p>
        {problem ? (
          <p role="alert" className="error" data-testid="sim-problem">
            {problem}
          </p>
        ) : null}
        {!current ? <p className="notice">That is the whole walk-through. Start over to run it again with new records.</p> : null}
        {resets.length > 0 ? <TxList txs={resets} heading="Start over: transactions that ended the last run’s access" /> : null}
      </section>

      <div className="sim-panes">
        <Pane title="Patient" who={cast.patient} notes={patientNotes} testId="pane-patient" />
        <Pane title="Clinician and other organisations" who={cast.clinic} notes={clinicianNotes} testId="pane-clinician" />
      </div>

      <section className="panel" aria-labelledby="sim-chain-title" data-testid="chain-now">
        <h2 id="sim-chain-title">What the chain says now</h2>
        {latestChain ? <ChainBox chain={latestChain} cast={cast} /> : <p className="muted">Run a step to read the chain.</p>}
      </section>

      <section aria-labelledby="sim-log-title" className="sim-log">
        <h2 id="sim-log-title">Step by step</h2>
        {done.length === 0 ? <p className="muted">Nothing run yet.</p> : null}
        {done.map((d, i) => (
          <StepPanel key={`${d.step.id}-${i}`} done={d} number={steps.indexOf(d.step)} cast={cast} />
        ))}
      </section>
    </>
  );
}

function Pane({ title, who, notes, testId }: { title: string; who: Cast['patient']; notes: Array<{ n: PaneNote; step: StepDef }>; testId: string }) {
  const id = `${testId}-title`;
  return (
    <section className="panel sim-pane" aria-labelledby={id} data-testid={testId}>
      <h2 id={id}>{title}</h2>
      <p className="muted small">
        {who.name} · <code>{who.address}</code>
      </p>
      {notes.length === 0 ? <p className="muted">Nothing yet.</p> : null}
      <ul className="sim-notes">
        {notes.map(({ n, step }, i) => (
          <li key={i} className={`sim-note sim-note--${n.tone}`} data-testid={n.testId}>
            <p className="sim-note__title">
              <strong>{n.title}</strong> <span className="muted small">· {step.title}</span>
            </p>
            {n.text ? <p>{n.text}</p> : null}
            {n.list ? (
              <ul>
                {n.list.map((l, j) => (
                  <li key={j}>{l}</li>
                ))}
              </ul>
            ) : null}
            {n.pre ? (
              <details>
                <summary>Decrypted FHIR resource</summary>
                <pre className="fhir-json">{n.pre}</pre>
              </details>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

const CATEGORY_KEYS = new Set(['categories', 'approvedCategories', 'neverShare']);

function formatArg(key: string, value: unknown): string {
  if (CATEGORY_KEYS.has(key) && (typeof value === 'number' || typeof value === 'bigint')) return `${categoriesOf(Number(value)).join(', ') || 'none'} (0x${Number(value).toString(16)})`;
  if (key === 'purpose' && (typeof value === 'number' || typeof value === 'bigint')) return purposeCode(Number(value));
  if (/expiresAt|until|At$/.test(key) && typeof value === 'bigint' && value > 1_000_000_000n) return `${new Date(Number(value) * 1000).toLocaleString()} (${value})`;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return String(value);
}

function TxList({ txs, heading }: { txs: TxView[]; heading?: string }) {
  return (
    <div className="sim-txs">
      {heading ? <h4>{heading}</h4> : null}
      {txs.map((t) => (
        <div key={t.hash} className="sim-tx" data-testid="tx">
          <p>
            <strong>{t.label}</strong>
          </p>
          <dl className="facts">
            <dt>Transaction</dt>
            <dd>
              <code data-testid="tx-hash">{t.hash}</code>
            </dd>
            <dt>Block</dt>
            <dd data-testid="tx-block">
              {t.blockNumber.toString()} · {new Date(Number(t.blockTimestamp) * 1000).toLocaleString()}
            </dd>
          </dl>
          <ul className="sim-events" aria-label="Decoded events">
            {t.events.map((e, i) => (
              <li key={i}>
                <code>{e.eventName}</code>
                {Object.entries(e.args).length ? ' ' : ''}
                {Object.entries(e.args)
                  .map(([k, v]) => `${k}: ${formatArg(k, v)}`)
                  .join(' · ')}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

function StepPanel({ done, number, cast }: { done: Done; number: number; cast: Cast }) {
  const id = `sim-step-${number}`;
  return (
    <section className="panel sim-step" aria-labelledby={id} data-testid={`step-${done.step.id}`}>
      <h3 id={id}>
        {number}. {done.step.title}
      </h3>
      <p data-testid="step-summary">{done.result.summary}</p>
      {done.result.transactions.length > 0 ? <TxList txs={done.result.transactions} /> : <p className="muted small">No transaction in this step.</p>}
      <details className="sim-chain-details">
        <summary>What the chain said after this step</summary>
        {done.chain ? <ChainBox chain={done.chain} cast={cast} /> : <p className="error">{done.chainProblem}</p>}
      </details>
    </section>
  );
}

function ChainBox({ chain, cast }: { chain: ChainNow; cast: Cast }) {
  const when = (t: bigint) => new Date(Number(t) * 1000).toLocaleString();
  const rows = [
    { name: cast.clinic.name, a: chain.clinic },
    { name: cast.emergency.name, a: chain.emergency },
    { name: cast.insurer.name, a: chain.insurer },
  ];
  return (
    <div className="sim-chain">
      <p className="small muted">
        Block {chain.block.toString()} at {when(chain.now)}. Patient {chain.registered ? 'registered' : 'not registered'}. Policy:{' '}
        {chain.clinic.policy.neverShare.length ? `never shares ${chain.clinic.policy.neverShare.join(', ')}` : 'shares any category'};{' '}
        {chain.clinic.policy.bannedKinds.length ? `bans ${chain.clinic.policy.bannedKinds.join(', ')}` : 'bans no kind of organisation'}.
      </p>
      <div className="sim-table-wrap">
        <table className="sim-table">
          <caption className="visually-hidden">Access of each organisation to the patient’s records</caption>
          <thead>
            <tr>
              <th scope="col">Organisation</th>
              <th scope="col">Grant</th>
              <th scope="col">Break-glass</th>
              <th scope="col">Live now</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ name, a }) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>
                  {a.grant.expiresAt > 0n
                    ? `${a.grant.categories.join(', ')} for ${a.grant.purpose}, until ${when(a.grant.expiresAt)}${a.grant.live ? '' : ' (expired)'}`
                    : 'none'}
                </td>
                <td>{a.breakGlass.open ? `${a.breakGlass.categories.join(', ')} until ${when(a.breakGlass.expiresAt)}` : a.breakGlass.expiresAt > 0n ? 'closed or expired' : 'none'}</td>
                <td data-testid="live-categories">{a.liveCategories.join(', ') || 'nothing'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
