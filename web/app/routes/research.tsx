import type { MetaFunction } from '@remix-run/node';
import { useRouteLoaderData } from '@remix-run/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { Bar, BarChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { erc20Abi, type Address } from 'viem';
import { useAccount, useConfig } from 'wagmi';
import { CATEGORIES, categoryMask, type Category } from '@consentry/sdk/records/categories';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { CATEGORY_DESCRIPTIONS, consentAuthorizationText } from '@consentry/sdk/research/consent-template';
import { faucet, purchase, quotePurchase, refund, type PurchaseOnChain } from '@consentry/sdk/research/market';
import { createStudy, type StudyStatus } from '@consentry/sdk/zk/chain';
import { compileCriteria } from '@consentry/sdk/zk/layout';
import { describeCriteria, type StudyMetadata } from '@consentry/sdk/zk/study-metadata';
import { MEASURE_NAMES, MEASURES, SEXES, SMOKER_STATUSES } from '@consentry/sdk/zk/types';
import { IDLE, runTx, TxMessage, type TxState } from '../components/ClinicalRecords.tsx';
import { ConnectPanel } from '../components/ConnectWallet.tsx';
import { chainClient } from '../lib/clinical.client.ts';
import { durationInWords } from '../lib/eligibility.ts';
import { describeError } from '../lib/errors.ts';
import { LOCAL_CHAIN_ID, type PublicConfig } from '../lib/public-config.ts';
import {
  CSV_COLUMNS,
  criteriaFromForm,
  EMPTY_CRITERIA_FORM,
  money,
  myPurchases,
  myStudies,
  parsePrice,
  RELEASE_STAGE_WORDS,
  releasePurchase,
  storeStudyDocument,
  tokenInfo,
  toCsv,
  toNdjson,
  walletContext,
  type CriteriaForm,
  type MyStudy,
  type TokenInfo,
} from '../lib/research.client.ts';
import type { loader as rootLoader } from '../root.tsx';

export const meta: MetaFunction = () => [{ title: 'Research · Consentry' }];

const DAY = 86_400;
const day = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().slice(0, 10);
const when = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().slice(0, 16).replace('T', ' ');

/** A study's status as a researcher reads it. */
export const STATUS_WORDS: Record<StudyStatus, string> = {
  Pending: 'Pending IRB review',
  Approved: 'Approved: open for enrollment and for sale',
  Rejected: 'Rejected by the IRB',
  Paused: 'Paused by you',
  Closed: 'Closed',
  Suspended: 'Suspended by the IRB',
};

/** The contracts the researcher's journey needs, or null when the deployment lacks one. */
function researchContracts(config: PublicConfig) {
  const c = config.contracts;
  if (!c?.StudyRegistry || !c.StudyMarket || !c.ConsentToken || !c.ReleaseCommittee || !c.IssuerRegistry || !c.EligibilityVerifier) return null;
  return {
    StudyRegistry: c.StudyRegistry,
    StudyMarket: c.StudyMarket,
    ConsentToken: c.ConsentToken,
    ReleaseCommittee: c.ReleaseCommittee,
    IssuerRegistry: c.IssuerRegistry,
    EligibilityVerifier: c.EligibilityVerifier,
    TestToken: c.TestToken ?? undefined,
  };
}
type ResearchContracts = NonNullable<ReturnType<typeof researchContracts>>;

export default function ResearchPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const { address, status } = useAccount();
  if (!config) return null;
  const contracts = researchContracts(config);
  return (
    <div className="page">
      <h1>Research</h1>
      <p className="lead">
        Create a study for an IRB to review, then buy the data of its consenting participants. The dataset is released by the
        committee to a key only your wallet can derive, and decrypted in this browser.
      </p>
      {!contracts ? (
        <p role="alert" className="error">
          This deployment has no research market (StudyRegistry, StudyMarket, ConsentToken and ReleaseCommittee). Start Consentry with `npm start`.
        </p>
      ) : status === 'connected' && address ? (
        <Researcher key={address} config={config} contracts={contracts} address={address} />
      ) : (
        <section aria-labelledby="research-connect" className="panel">
          <h2 id="research-connect">Connect your wallet</h2>
          {status === 'reconnecting' || status === 'connecting' ? <p role="status">Reconnecting your wallet…</p> : <ConnectPanel config={config} />}
        </section>
      )}
    </div>
  );
}

interface Ctx {
  config: PublicConfig;
  contracts: ResearchContracts;
  address: Address;
  token: TokenInfo | null;
}

function Researcher({ config, contracts, address }: { config: PublicConfig; contracts: ResearchContracts; address: Address }) {
  const wagmi = useConfig();
  const token = useQuery({
    queryKey: ['research-token', contracts.TestToken],
    enabled: Boolean(contracts.TestToken),
    queryFn: () => tokenInfo(chainClient(wagmi, config.chainId), contracts.TestToken!),
  });
  const ctx: Ctx = { config, contracts, address, token: token.data ?? null };
  return (
    <>
      <p style={{ overflowWrap: 'anywhere' }}>
        Signed in as <code>{address}</code>
      </p>
      {!contracts.TestToken ? <p role="alert" className="error">This chain has no test token (tUSD), so studies cannot be priced here.</p> : null}
      {token.error ? (
        <p role="alert" className="error">
          {describeError(token.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}
      <CreateStudy ctx={ctx} />
      <MyStudies ctx={ctx} />
      <Purchases ctx={ctx} />
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// Create a study

function CreateStudy({ ctx }: { ctx: Ctx }) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const id = useId();
  const [title, setTitle] = useState('');
  const [summary, setSummary] = useState('');
  const [form, setForm] = useState<CriteriaForm>(EMPTY_CRITERIA_FORM);
  const [categories, setCategories] = useState<Set<Category>>(new Set(['labs', 'conditions', 'medications']));
  const [price, setPrice] = useState('5');
  const [durationDays, setDurationDays] = useState('365');
  const [k, setK] = useState('3');
  const [maxParticipants, setMaxParticipants] = useState('1000');
  const [researcher, setResearcher] = useState('');
  const [irb, setIrb] = useState('');
  const [protocol, setProtocol] = useState('');
  const [tx, setTx] = useState<TxState>(IDLE);

  const built = useMemo(() => criteriaFromForm(form), [form]);
  const words = built.criteria ? describeCriteria(built.criteria) : [];
  const decimals = ctx.token?.decimals ?? 6;
  const symbol = ctx.token?.symbol ?? 'tUSD';
  const priced = parsePrice(price, decimals);
  const kNumber = Number(k);
  const durationNumber = Number(durationDays);

  // The consent text follows from the terms: shown as it will be registered, not editable (see the hint).
  const consent = useMemo(() => {
    try {
      return {
        text: consentAuthorizationText({
          title: title.trim() || '(the study title)',
          purpose: summary.trim() || '(the study summary, as its purpose)',
          researcher: researcher.trim() || '(the researcher responsible)',
          irb: irb.trim() || '(the reviewing IRB)',
          categories: BigInt(categoryMask([...categories])),
          consentDuration: BigInt(Math.max(0, Math.round(durationNumber || 0))) * BigInt(DAY),
          minCohort: Number.isInteger(kNumber) && kNumber >= 1 ? kNumber : 1,
          paymentPerPurchase: 'amount' in priced ? `${price.trim()} ${symbol}` : null,
        }),
        problem: null,
      };
    } catch (err) {
      return { text: null, problem: err instanceof Error ? err.message : String(err) };
    }
  }, [title, summary, researcher, irb, categories, durationNumber, kNumber, priced, price, symbol]);

  const termsProblems = (): string[] => {
    const out: string[] = [];
    if (title.trim().length < 3) out.push('Give the study a title of at least 3 characters');
    if (!summary.trim()) out.push('Give a summary: it is the purpose participants consent to');
    out.push(...built.problems);
    if (categories.size === 0) out.push('Choose at least one category of records the study wants');
    if ('problem' in priced) out.push(priced.problem);
    if (!Number.isInteger(durationNumber) || durationNumber < 1) out.push('The consent lasts a whole number of days, at least 1');
    if (!Number.isInteger(kNumber) || kNumber < 1) out.push('k (the smallest cohort that may be sold) is a whole number, at least 1');
    const max = Number(maxParticipants);
    if (!Number.isInteger(max) || max < 1) out.push('The maximum number of participants is a whole number, at least 1');
    else if (Number.isInteger(kNumber) && max < kNumber) out.push('The maximum number of participants must be at least k');
    if (!researcher.trim()) out.push('Name the researcher responsible (it is written into the consent text)');
    if (!irb.trim()) out.push('Name the IRB that will review the study (it is written into the consent text)');
    if (!protocol.trim()) out.push('Write the protocol the IRB will review');
    if (!ctx.contracts.TestToken) out.push('This chain has no test token to price the study in');
    return out;
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems = termsProblems();
    if (problems.length || !built.criteria || !('amount' in priced) || !consent.text) {
      return setTx({ phase: 'failed', message: problems.join('. ') || consent.problem || 'The study is not complete' });
    }
    const criteria = built.criteria;
    const metadata: StudyMetadata = { version: 1, title: title.trim(), summary: summary.trim(), criteria };
    const ok = await runTx(
      setTx,
      'Signing in to store the study’s documents (a free signature)…',
      async () => {
        const { chainId } = ctx.config;
        const meta = await storeStudyDocument(wagmi, ctx.address, chainId, { kind: 'metadata', metadata });
        setTx({ phase: 'busy', message: 'Storing the protocol and the consent text…' });
        const protocolDoc = await storeStudyDocument(wagmi, ctx.address, chainId, { kind: 'text', text: protocol });
        const consentDoc = await storeStudyDocument(wagmi, ctx.address, chainId, { kind: 'text', text: consent.text! });
        setTx({ phase: 'busy', message: 'Pending: registering the study on chain from your wallet, waiting for its confirmation…' });
        const { wallet, client } = await walletContext(wagmi, chainId, ctx.address);
        const created = await createStudy(
          { wallet, client, contracts: ctx.contracts },
          {
            metadataHash: meta.hash,
            criteriaHash: compileCriteria(criteria).criteriaHash,
            protocolHash: protocolDoc.hash,
            consentHash: consentDoc.hash,
            categories: BigInt(categoryMask([...categories])),
            paymentToken: ctx.contracts.TestToken!,
            pricePerParticipant: priced.amount,
            consentDuration: BigInt(durationNumber * DAY),
            minCohort: kNumber,
            maxParticipants: Number(maxParticipants),
          },
        );
        return `Confirmed: study #${created.studyId} registered in block ${created.blockNumber}. It is pending IRB review.`;
      },
      ctx.config.rpcUrl,
    );
    if (ok) await queryClient.invalidateQueries({ queryKey: ['research-studies'] });
  };

  const setMeasure = (m: (typeof MEASURE_NAMES)[number], side: 'min' | 'max', value: string) =>
    setForm((f) => ({ ...f, measures: { ...f.measures, [m]: { ...f.measures[m], [side]: value } } }));

  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Create a study</h2>
      {/* noValidate: every problem is said in words by the page, all at once, instead of the browser's first one. */}
      <form className="clinical-form" onSubmit={submit} aria-describedby={`${id}-flow`} noValidate>
        <p id={`${id}-flow`} className="hint">
          The description, protocol and consent text are stored content-addressed on this server; their SHA-256 hashes go on chain with the terms.
          The study is pending until an accredited IRB approves it.
        </p>
        <label htmlFor={`${id}-title`}>Title</label>
        <input id={`${id}-title`} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} required />
        <label htmlFor={`${id}-summary`}>Summary (the research purpose participants consent to)</label>
        <textarea id={`${id}-summary`} value={summary} onChange={(e) => setSummary(e.target.value)} rows={3} maxLength={4000} required />

        <h3>Who may join: the criteria</h3>
        <p className="notice" data-testid="no-live-count">
          There is no count of matching patients here, by design: a count that answers each change of the criteria would let anyone narrow them
          until they single out one person, and learn that person’s diagnoses. Participants check the criteria on their own devices and prove
          they meet them; you learn only how many enrolled.
        </p>
        <fieldset className="category-boxes" style={{ minWidth: 0 }}>
          <legend>Age in whole years (at proof time)</legend>
          <label htmlFor={`${id}-age-min`}>From</label>
          <input id={`${id}-age-min`} inputMode="numeric" size={4} value={form.ageMin} onChange={(e) => setForm({ ...form, ageMin: e.target.value })} />
          <label htmlFor={`${id}-age-max`}>to</label>
          <input id={`${id}-age-max`} inputMode="numeric" size={4} value={form.ageMax} onChange={(e) => setForm({ ...form, ageMax: e.target.value })} />
        </fieldset>
        <Choices legend="Sex (none checked: any)" options={SEXES} chosen={form.sex} onChange={(sex) => setForm({ ...form, sex })} />
        <Choices legend="Smoking status (none checked: any)" options={SMOKER_STATUSES} chosen={form.smoker} onChange={(smoker) => setForm({ ...form, smoker })} />
        <fieldset className="category-boxes" style={{ minWidth: 0 }}>
          <legend>Latest measured values (empty: not asked; a bound requires the value measured)</legend>
          {MEASURE_NAMES.map((m) => (
            <span key={m} className="check" style={{ flexWrap: 'wrap' }}>
              <label htmlFor={`${id}-${m}-min`}>
                {MEASURES[m].label} minimum ({MEASURES[m].unit})
              </label>
              <input id={`${id}-${m}-min`} inputMode="decimal" size={5} value={form.measures[m].min} onChange={(e) => setMeasure(m, 'min', e.target.value)} />
              <label htmlFor={`${id}-${m}-max`}>
                {MEASURES[m].label} maximum ({MEASURES[m].unit})
              </label>
              <input id={`${id}-${m}-max`} inputMode="decimal" size={5} value={form.measures[m].max} onChange={(e) => setMeasure(m, 'max', e.target.value)} />
            </span>
          ))}
        </fieldset>
        <label htmlFor={`${id}-anyof`}>Diagnosed with any of (ICD-10-CM codes or prefixes such as E11.*; up to 4)</label>
        <input id={`${id}-anyof`} value={form.anyOf} onChange={(e) => setForm({ ...form, anyOf: e.target.value })} />
        <label htmlFor={`${id}-noneof`}>Not diagnosed with (codes or prefixes; up to 4)</label>
        <input id={`${id}-noneof`} value={form.noneOf} onChange={(e) => setForm({ ...form, noneOf: e.target.value })} />
        <label htmlFor={`${id}-fresh`}>Credential issued within the last … days (empty: any)</label>
        <input id={`${id}-fresh`} inputMode="numeric" value={form.credentialMaxAgeDays} onChange={(e) => setForm({ ...form, credentialMaxAgeDays: e.target.value })} />
        <div aria-live="polite" data-testid="criteria-words">
          {built.criteria ? (
            <>
              <p>The criteria in words:</p>
              <ul>
                {words.map((w) => (
                  <li key={w.criterion}>{w.text}</li>
                ))}
              </ul>
            </>
          ) : (
            <ul className="error" data-testid="criteria-problems">
              {built.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </div>

        <h3>Terms</h3>
        <fieldset className="category-boxes" style={{ minWidth: 0 }}>
          <legend>Categories of records wanted</legend>
          {CATEGORIES.map((c) => (
            <label key={c} className="check" title={CATEGORY_DESCRIPTIONS[c]}>
              <input
                type="checkbox"
                checked={categories.has(c)}
                onChange={(e) => {
                  const next = new Set(categories);
                  if (e.target.checked) next.add(c);
                  else next.delete(c);
                  setCategories(next);
                }}
              />
              {c.replace('-', ' ')}
            </label>
          ))}
        </fieldset>
        <label htmlFor={`${id}-price`}>Price per participant per purchase ({symbol})</label>
        <input id={`${id}-price`} inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} aria-describedby={`${id}-price-hint`} />
        <p id={`${id}-price-hint`} className="hint">
          Paid into escrow when you buy, and credited to each participant of the cohort once the committee releases the data.
        </p>
        <label htmlFor={`${id}-duration`}>Consent lasts (days from enrollment)</label>
        <input id={`${id}-duration`} inputMode="numeric" value={durationDays} onChange={(e) => setDurationDays(e.target.value)} />
        <label htmlFor={`${id}-k`}>k: the smallest cohort whose data may be sold</label>
        <input id={`${id}-k`} inputMode="numeric" value={k} onChange={(e) => setK(e.target.value)} aria-describedby={`${id}-k-hint`} />
        <p id={`${id}-k-hint`} className="hint">
          Below k active participants the market refuses a purchase: a smaller cohort could single people out.
        </p>
        <label htmlFor={`${id}-max`}>Maximum participants</label>
        <input id={`${id}-max`} inputMode="numeric" value={maxParticipants} onChange={(e) => setMaxParticipants(e.target.value)} />
        <label htmlFor={`${id}-researcher`}>Researcher responsible (as participants will read it)</label>
        <input id={`${id}-researcher`} value={researcher} onChange={(e) => setResearcher(e.target.value)} />
        <label htmlFor={`${id}-irb`}>Reviewing IRB (name)</label>
        <input id={`${id}-irb`} value={irb} onChange={(e) => setIrb(e.target.value)} />

        <h3>Consent text</h3>
        <p id={`${id}-consent-hint`} className="hint">
          Written from the template and your terms, and registered as shown. It is not editable: it carries every element a HIPAA research
          authorization requires (the data, who discloses and receives it, the purpose, the expiry, the right to revoke, signature and date), and
          it states the same categories, duration, k and price as the chain, so it cannot contradict the terms participants are held to. Change
          the terms above to change it.
        </p>
        {consent.text ? (
          <pre className="consent-text" tabIndex={0} aria-label="Consent text" aria-describedby={`${id}-consent-hint`} data-testid="consent-preview" style={{ whiteSpace: 'pre-wrap', maxHeight: '20rem', overflow: 'auto' }}>
            {consent.text}
          </pre>
        ) : (
          <p className="error">{consent.problem}</p>
        )}
        <label htmlFor={`${id}-protocol`}>Protocol (what the IRB reviews)</label>
        <textarea id={`${id}-protocol`} value={protocol} onChange={(e) => setProtocol(e.target.value)} rows={6} />
        <button type="submit" className="button button--primary" disabled={tx.phase === 'busy'}>
          Submit for IRB review
        </button>
      </form>
      <TxMessage state={tx} testId="create-result" />
    </section>
  );
}

/** A criterion that allows some of a few values: a checkbox each (none checked: the criterion is not asked). */
function Choices<T extends string>({ legend, options, chosen, onChange }: { legend: string; options: readonly T[]; chosen: T[]; onChange: (next: T[]) => void }) {
  return (
    <fieldset className="category-boxes" style={{ minWidth: 0 }}>
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={o} className="check">
          <input type="checkbox" checked={chosen.includes(o)} onChange={(e) => onChange(e.target.checked ? [...chosen, o] : chosen.filter((x) => x !== o))} />
          {o}
        </label>
      ))}
    </fieldset>
  );
}

// ---------------------------------------------------------------------------------------------
// The researcher's studies, and buying one

/** A chain read's progress (role=status) and failure (role=alert), in words. */
function ChainRead({ query, reading, rpcUrl }: { query: { isPending: boolean; error: Error | null }; reading: string; rpcUrl: string }) {
  if (query.error) {
    return (
      <p role="alert" className="error">
        {describeError(query.error, { rpcUrl, stage: 'reading' })}
      </p>
    );
  }
  return query.isPending ? <p role="status">{reading}</p> : null;
}

function useMyStudies(ctx: Ctx) {
  const wagmi = useConfig();
  return useQuery({
    queryKey: ['research-studies', ctx.address.toLowerCase()],
    queryFn: () => myStudies(chainClient(wagmi, ctx.config.chainId), ctx.contracts, ctx.address),
    refetchInterval: 5000,
  });
}

function MyStudies({ ctx }: { ctx: Ctx }) {
  const studies = useMyStudies(ctx);
  const id = useId();
  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Your studies</h2>
      <ChainRead query={studies} reading="Reading your studies from the chain…" rpcUrl={ctx.config.rpcUrl} />
      {studies.data && studies.data.length === 0 ? <p>You have not registered a study yet.</p> : null}
      <ul className="request-list" aria-label="Your studies">
        {studies.data?.map((s) => (
          <StudyRow key={s.study.studyId.toString()} ctx={ctx} s={s} />
        ))}
      </ul>
      {studies.data && studies.data.length > 0 ? <CohortChart studies={studies.data} /> : null}
    </section>
  );
}

function StudyRow({ ctx, s }: { ctx: Ctx; s: MyStudy }) {
  const { study } = s;
  const token = ctx.token && ctx.token.address.toLowerCase() === study.paymentToken.toLowerCase() ? ctx.token : null;
  const price = token ? money(study.pricePerParticipant, token) : `${study.pricePerParticipant} base units`;
  return (
    <li className="panel" data-testid="study-row" data-study-id={study.studyId.toString()}>
      <h3>
        Study #{study.studyId.toString()}: {s.title ?? '(its description is not in this server’s store)'}
      </h3>
      <dl className="facts">
        <dt>Status</dt>
        <dd data-testid="study-status">{STATUS_WORDS[study.status]}</dd>
        <dt>Active participants</dt>
        <dd data-testid="study-active">{s.active}</dd>
        <dt>Price per participant</dt>
        <dd>{price}</dd>
        <dt>k (smallest cohort sold)</dt>
        <dd>{study.minCohort}</dd>
        <dt>Consent lasts</dt>
        <dd>{durationInWords(study.consentDuration)}</dd>
        <dt>Registered</dt>
        <dd>{day(study.createdAt)}</dd>
      </dl>
      {study.status === 'Approved' ? <Buy ctx={ctx} s={s} token={token} /> : null}
    </li>
  );
}

function Buy({ ctx, s, token }: { ctx: Ctx; s: MyStudy; token: TokenInfo | null }) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const [tx, setTx] = useState<TxState>(IDLE);
  const studyId = s.study.studyId;
  const quote = useQuery({
    queryKey: ['research-quote', studyId.toString(), ctx.address.toLowerCase()],
    queryFn: async () => {
      const client = chainClient(wagmi, ctx.config.chainId);
      const [q, balance] = await Promise.all([
        quotePurchase(client, ctx.contracts, studyId),
        client.readContract({ address: s.study.paymentToken, abi: erc20Abi, functionName: 'balanceOf', args: [ctx.address] }),
      ]);
      return { ...q, balance };
    },
    refetchInterval: 5000,
  });
  const fmt = (v: bigint) => (token ? money(v, token) : `${v}`);
  const local = ctx.config.chainId === LOCAL_CHAIN_ID && Boolean(ctx.contracts.TestToken);
  const q = quote.data;
  const belowK = q ? q.active < s.study.minCohort : false;

  const getTokens = () =>
    runTx(
      setTx,
      'Pending: minting test tUSD to your account…',
      async () => {
        const { wallet, client } = await walletContext(wagmi, ctx.config.chainId, ctx.address);
        const amount = q && q.amount > 0n ? q.amount : 100n * 10n ** BigInt(token?.decimals ?? 6);
        const r = await faucet({ wallet, client, contracts: ctx.contracts }, ctx.address, amount);
        await queryClient.invalidateQueries({ queryKey: ['research-quote'] });
        return `Confirmed: ${fmt(amount)} of test tokens minted to you (block ${r.blockNumber}).`;
      },
      ctx.config.rpcUrl,
    );

  const buy = async () => {
    if (!q) return;
    if (belowK) {
      return setTx({
        phase: 'failed',
        message: `Only ${q.active} participants are active and the study’s k is ${s.study.minCohort}: its data cannot be sold until at least ${s.study.minCohort} are, because a smaller cohort could single people out.`,
      });
    }
    if (q.balance < q.amount) {
      return setTx({ phase: 'failed', message: `You hold ${fmt(q.balance)}, less than the ${fmt(q.amount)} the purchase costs${local ? '; get test tUSD first' : ''}.` });
    }
    const ok = await runTx(
      setTx,
      'Pending: approving the market for the amount, then buying (your wallet sends two transactions)…',
      async () => {
        const { wallet, client } = await walletContext(wagmi, ctx.config.chainId, ctx.address);
        const paid = await purchase({ wallet, client, contracts: ctx.contracts }, studyId);
        return `Confirmed: purchase #${paid.purchaseId} paid, ${fmt(paid.amount)} for ${paid.cohort} participants, held in escrow until the committee releases the data (by ${when(paid.deadline)} UTC). Release it under Your purchases.`;
      },
      ctx.config.rpcUrl,
    );
    if (ok) await Promise.all([queryClient.invalidateQueries({ queryKey: ['research-purchases'] }), queryClient.invalidateQueries({ queryKey: ['research-quote'] })]);
  };

  return (
    <div className="buy" data-testid="buy">
      {quote.error ? (
        <p role="alert" className="error">
          {describeError(quote.error, { rpcUrl: ctx.config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}
      {q ? (
        <p data-testid="quote">
          Quote: {fmt(q.pricePerParticipant)} × {q.active} active participants = <strong>{fmt(q.amount)}</strong>. You hold {fmt(q.balance)}.
        </p>
      ) : (
        <p role="status">Reading the quote…</p>
      )}
      {local ? (
        <button type="button" className="button" onClick={getTokens} disabled={tx.phase === 'busy'}>
          Get test tUSD
        </button>
      ) : null}{' '}
      <button type="button" className="button button--primary" onClick={buy} disabled={tx.phase === 'busy' || !q}>
        Buy the cohort’s data
      </button>
      <TxMessage state={tx} testId={`buy-result-${studyId}`} />
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Purchases, their release and the dataset

function Purchases({ ctx }: { ctx: Ctx }) {
  const wagmi = useConfig();
  const id = useId();
  const purchases = useQuery({
    queryKey: ['research-purchases', ctx.address.toLowerCase()],
    queryFn: async () => {
      const client = chainClient(wagmi, ctx.config.chainId);
      const [list, block] = await Promise.all([myPurchases(client, ctx.contracts.StudyMarket, ctx.address, BigInt(ctx.config.startBlock)), client.getBlock({ blockTag: 'latest' })]);
      return { list, now: block.timestamp };
    },
    refetchInterval: 5000,
  });
  const list = purchases.data?.list ?? [];
  const fmt = (v: bigint) => (ctx.token ? money(v, ctx.token) : `${v}`);
  const sum = (status: PurchaseOnChain['status']) => list.filter((p) => p.status === status).reduce((a, p) => a + p.amount, 0n);
  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Your purchases</h2>
      <ChainRead query={purchases} reading="Reading your purchases from the chain…" rpcUrl={ctx.config.rpcUrl} />
      {purchases.data && list.length === 0 ? <p>You have bought nothing yet.</p> : null}
      {list.length > 0 ? (
        <dl className="facts" data-testid="spend">
          <dt>Spent (confirmed)</dt>
          <dd>{fmt(sum('Confirmed'))}</dd>
          <dt>In escrow (pending)</dt>
          <dd>{fmt(sum('Pending'))}</dd>
          <dt>Refunded</dt>
          <dd>{fmt(sum('Refunded'))}</dd>
        </dl>
      ) : null}
      <ul className="request-list" aria-label="Your purchases">
        {list.map((p) => (
          <PurchaseRow key={p.purchaseId.toString()} ctx={ctx} p={p} now={purchases.data!.now} />
        ))}
      </ul>
      {list.length > 0 ? <SpendChart purchases={list} decimals={ctx.token?.decimals ?? 6} symbol={ctx.token?.symbol ?? 'tUSD'} /> : null}
    </section>
  );
}

const PURCHASE_WORDS: Record<PurchaseOnChain['status'], string> = {
  None: 'Unknown',
  Pending: 'Pending: paid, waiting for the committee’s release',
  Confirmed: 'Confirmed: released to you',
  Refunded: 'Refunded',
};

interface Dataset {
  resources: FhirResource[];
  extracts: number;
  ndjsonUrl: string;
  csvUrl: string;
}

function PurchaseRow({ ctx, p, now }: { ctx: Ctx; p: PurchaseOnChain; now: bigint }) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const [tx, setTx] = useState<TxState>(IDLE);
  const [dataset, setDataset] = useState<Dataset | null>(null);
  /** The release's steps so far, kept in view (each also passes through the status region). */
  const [steps, setSteps] = useState<string[]>([]);
  const fmt = (v: bigint) => (ctx.token ? money(v, ctx.token) : `${v}`);
  useEffect(
    () => () => {
      if (dataset) {
        URL.revokeObjectURL(dataset.ndjsonUrl);
        URL.revokeObjectURL(dataset.csvUrl);
      }
    },
    [dataset],
  );

  const release = async () => {
    setSteps([]);
    const ok = await runTx(
      setTx,
      RELEASE_STAGE_WORDS.keys(0),
      async () => {
        const out = await releasePurchase({
          wagmi,
          chainId: ctx.config.chainId,
          account: ctx.address,
          contracts: ctx.contracts,
          gatewayUrls: ctx.config.gateways,
          purchase: p,
          onStage: (stage, members) => {
            const words = RELEASE_STAGE_WORDS[stage](members);
            setSteps((done) => [...done, words]);
            setTx({ phase: 'busy', message: words });
          },
        });
        const ndjsonUrl = URL.createObjectURL(new Blob([toNdjson(out.resources)], { type: 'application/fhir+ndjson' }));
        const csvUrl = URL.createObjectURL(new Blob([toCsv(out.resources)], { type: 'text/csv' }));
        setDataset({ resources: out.resources, extracts: out.extracts, ndjsonUrl, csvUrl });
        return `Released and decrypted in this browser: ${out.extracts} extracts, ${out.resources.length} resources.`;
      },
      ctx.config.rpcUrl,
    );
    if (ok) await queryClient.invalidateQueries({ queryKey: ['research-purchases'] });
  };

  const takeRefund = async () => {
    const ok = await runTx(
      setTx,
      'Pending: asking for the refund…',
      async () => {
        const { wallet, client } = await walletContext(wagmi, ctx.config.chainId, ctx.address);
        const r = await refund({ wallet, client, contracts: ctx.contracts }, p.purchaseId);
        return `Confirmed: ${fmt(r.amount)} refunded to you (block ${r.blockNumber}).`;
      },
      ctx.config.rpcUrl,
    );
    if (ok) await queryClient.invalidateQueries({ queryKey: ['research-purchases'] });
  };

  const counts = dataset ? Object.entries(dataset.resources.reduce<Record<string, number>>((a, r) => ({ ...a, [r.resourceType]: (a[r.resourceType] ?? 0) + 1 }), {})) : [];
  const refundable = p.status === 'Pending' && now > p.deadline;
  return (
    <li className="panel" data-testid="purchase-row" data-purchase-id={p.purchaseId.toString()} data-status={p.status}>
      <h3>
        Purchase #{p.purchaseId.toString()} of study #{p.studyId.toString()}
      </h3>
      <dl className="facts">
        <dt>Status</dt>
        <dd data-testid="purchase-status">{PURCHASE_WORDS[p.status]}</dd>
        <dt>Amount</dt>
        <dd>
          {fmt(p.amount)} ({p.cohort} participants × {fmt(p.pricePerParticipant)})
        </dd>
        <dt>Bought</dt>
        <dd>{when(p.createdAt)} UTC</dd>
        {p.status === 'Pending' ? (
          <>
            <dt>Release deadline</dt>
            <dd>{when(p.deadline)} UTC (after it, you may take a refund)</dd>
          </>
        ) : null}
      </dl>
      {p.status !== 'Refunded' ? (
        <button type="button" className="button button--primary" onClick={release} disabled={tx.phase === 'busy'}>
          Release and download
        </button>
      ) : null}{' '}
      {refundable ? (
        <button type="button" className="button" onClick={takeRefund} disabled={tx.phase === 'busy'}>
          Refund
        </button>
      ) : null}
      {steps.length > 0 ? (
        <ol aria-label="Release steps" data-testid="release-steps">
          {steps.map((words, i) => (
            <li key={i}>{words}</li>
          ))}
        </ol>
      ) : null}
      <TxMessage state={tx} testId={`release-result-${p.purchaseId}`} />
      {dataset ? (
        <div data-testid="dataset">
          <p>
            {counts.map(([type, n]) => `${n} ${type}`).join(', ')}. Download it as{' '}
            <a href={dataset.ndjsonUrl} download={`purchase-${p.purchaseId}-dataset.ndjson`}>
              FHIR NDJSON
            </a>{' '}
            (one resource per line) or{' '}
            <a href={dataset.csvUrl} download={`purchase-${p.purchaseId}-dataset.csv`}>
              CSV
            </a>{' '}
            (one row per resource; columns {CSV_COLUMNS.join(', ')}: the first code as system|code|display, the value with its unit, and the year, the
            only part of a date an extract keeps).
          </p>
        </div>
      ) : null}
    </li>
  );
}

// ---------------------------------------------------------------------------------------------
// Charts (drawn after hydration: recharts measures the page)

function useMounted(): boolean {
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  return mounted;
}

function CohortChart({ studies }: { studies: MyStudy[] }) {
  const mounted = useMounted();
  const id = useId();
  const data = [...studies].reverse().map((s) => ({ name: `#${s.study.studyId}`, active: s.active, k: s.study.minCohort }));
  const summary = data.map((d) => `study ${d.name}: ${d.active} active (k = ${d.k})`).join('; ');
  return (
    <figure aria-labelledby={`${id}-cap`} style={{ margin: '1rem 0', maxWidth: '36rem' }}>
      <figcaption id={`${id}-cap`}>Active participants per study</figcaption>
      <div role="img" aria-label={`Active participants per study: ${summary}`}>
        {mounted ? (
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={data}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="name" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="active" name="Active participants" fill="#1f5fa8" />
            </BarChart>
          </ResponsiveContainer>
        ) : null}
      </div>
    </figure>
  );
}

function SpendChart({ purchases, decimals, symbol }: { purchases: PurchaseOnChain[]; decimals: number; symbol: string }) {
  const mounted = useMounted();
  const id = useId();
  let total = 0;
  const data = [...purchases]
    .filter((p) => p.status !== 'Refunded')
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))
    .map((p) => {
      total += Number(p.amount) / 10 ** decimals;
      return { when: when(p.createdAt), spent: total };
    });
  return (
    <figure aria-labelledby={`${id}-cap`} style={{ margin: '1rem 0', maxWidth: '36rem' }}>
      <figcaption id={`${id}-cap`}>Cumulative spend ({symbol}), refunds left out</figcaption>
      <div role="img" aria-label={`Cumulative spend: ${data.map((d) => `${d.spent} ${symbol} by ${d.when} UTC`).join('; ') || 'nothing yet'}`}>
        {mounted && data.length > 0 ? (
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={data}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="when" />
              <YAxis />
              <Tooltip />
              <Line type="stepAfter" dataKey="spent" name={`Spent (${symbol})`} stroke="#1f5fa8" />
            </LineChart>
          </ResponsiveContainer>
        ) : null}
      </div>
    </figure>
  );
}
