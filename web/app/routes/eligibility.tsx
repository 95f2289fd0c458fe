import type { MetaFunction } from '@remix-run/node';
import { useLoaderData, useRevalidator, useRouteLoaderData } from '@remix-run/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { erc20Abi, formatUnits, type Address, type Hex, type PublicClient } from 'viem';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useAccount } from 'wagmi';
import { studyMarketAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { ActionRefusedError } from '@consentry/sdk/access/actions';
import { publicClientFor } from '@consentry/sdk/clients';
import { keyFingerprint, type EncryptionKeyPair } from '@consentry/sdk/keys';
import { isEnrolled, readConsent, readIssuerLeaves, readStudy, type ZkContracts } from '@consentry/sdk/zk/chain';
import { issuerLeaf, type Credential } from '@consentry/sdk/zk/credential';
import { checkEligibility, type EligibilityResult } from '@consentry/sdk/zk/eligibility';
import { studyAccount } from '@consentry/sdk/zk/study-account';
import { ConnectPanel } from '../components/ConnectWallet.tsx';
import { publicConfig } from '../lib/config.server.ts';
import {
  ALREADY_ENROLLED_WORDS,
  categoriesWanted,
  dateOf,
  durationInWords,
  SAFE_HARBOR_REMOVES,
  describeAttributes,
  enrolBlocker,
  isAlreadyEnrolledError,
} from '../lib/eligibility.ts';
import { describeError } from '../lib/errors.ts';
import { enrollmentReceipt, ReceiptButton, receiptFileName } from '../lib/receipts.client.ts';
import { readCurrentCommittee } from '../lib/records.client.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import { StudyEarnings } from '../components/StudyEarnings.tsx';
import { useOpenKeys } from '../lib/use-open-keys.ts';
import { listStudies, type StudyView } from '../lib/studies.server.ts';
import {
  forgetCredential,
  loadCredential,
  myResources,
  prepareExtract,
  proofTime,
  proveInBrowser,
  relayEnrolment,
  relayRevocation,
  uploadSealedExtract,
  requestCredential,
  saveCredential,
  zkIdentity,
  type ZkIdentity,
} from '../lib/zk.client.ts';
import { artifactManifest, type ArtifactManifest } from '../lib/zk-artifacts.server.ts';
import { describeProgress, progressFraction, type ProofProgress, type ProofTimings } from '../lib/zk.protocol.ts';
import type { loader as rootLoader } from '../root.tsx';

export const meta: MetaFunction = () => [{ title: 'Studies · Consentry' }];

interface LoaderData {
  studies: StudyView[];
  artifacts: ArtifactManifest;
  /** Why no study can be listed, in words; null when the list is what the chain says. */
  problem: string | null;
}

export async function loader(): Promise<LoaderData> {
  let artifacts: ArtifactManifest;
  try {
    artifacts = await artifactManifest();
  } catch {
    artifacts = { ready: false, problem: 'The proving files cannot be read on this server' };
  }
  let registry: Address | null = null;
  try {
    registry = publicConfig().contracts?.StudyRegistry ?? null;
  } catch {
    return { studies: [], artifacts, problem: 'The server configuration is invalid.' };
  }
  if (!registry) return { studies: [], artifacts, problem: 'Studies are not deployed on this chain yet. Start Consentry with `npm start`.' };
  try {
    // Only studies an IRB approved and that are open enroll; the others are not offered.
    const studies = await listStudies({ studyRegistry: registry });
    return { studies: studies.filter((s) => s.status === 'Approved'), artifacts, problem: null };
  } catch (err) {
    const words = err instanceof Error ? ((err as { shortMessage?: string }).shortMessage ?? err.message.split('\n')[0]) : String(err);
    return { studies: [], artifacts, problem: `The studies cannot be read from the chain right now: ${words}` };
  }
}

export default function EligibilityPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const data = useLoaderData<typeof loader>();
  const { address, status } = useAccount();
  if (!config) return null;
  return (
    <div className="page">
      <h1>Studies</h1>
      <p className="lead">
        Research studies you may join. You prove that you meet a study&apos;s criteria without revealing who you are or any
        of your values: your records are decrypted in this browser, sent only to the credential issuer, and the proof is
        made here. The study learns that an eligible person enrolled, from an address made for that study alone.
      </p>
      {data.problem ? (
        <p role="alert" className="error" data-testid="studies-problem">
          {data.problem}
        </p>
      ) : null}
      {status === 'connected' && address ? (
        <EligibilityGate key={address} config={config} address={address} data={data} />
      ) : (
        <>
          <section aria-labelledby="eligibility-connect" className="panel">
            <h2 id="eligibility-connect">Connect your wallet</h2>
            {status === 'reconnecting' || status === 'connecting' ? <p role="status">Reconnecting your wallet…</p> : <ConnectPanel config={config} />}
          </section>
          <StudyList studies={data.studies} />
        </>
      )}
    </div>
  );
}

/** The studies as anyone sees them, before signing in. */
function StudyList({ studies }: { studies: StudyView[] }) {
  if (studies.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="studies-public">
      <h2 id="studies-public">Open studies</h2>
      <ul className="record-list">
        {studies.map((s) => (
          <li key={s.id}>
            <strong>{s.metadata?.title ?? `Study #${s.id}`}</strong>
            {s.criteriaInWords.length > 0 ? <span className="muted"> · {s.criteriaInWords.map((c) => c.text).join('; ')}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Before anything personal is shown: the encryption key (derived from a signature) and a session. */
function EligibilityGate({ config, address, data }: { config: PublicConfig; address: Address; data: LoaderData }) {
  const { keys, open: ready, busy, problem, unlock: open } = useOpenKeys(address, config);

  if (ready && keys) return <EligibilityWorkspace config={config} address={address} keys={keys} data={data} />;
  return (
    <>
      <section className="panel" aria-labelledby="eligibility-open">
        <h2 id="eligibility-open">Open your eligibility</h2>
        <p>
          Your wallet signs two free messages: one from which this browser derives your keys (your encryption key, and
          from it your private identity for studies), and one that signs you in to your records. Neither is a transaction.
        </p>
        <button type="button" className="button button--primary" disabled={busy} onClick={open}>
          {busy ? 'Waiting for your wallet…' : 'Open my eligibility'}
        </button>
        {problem ? (
          <p role="alert" className="error">
            {problem}
          </p>
        ) : null}
      </section>
      <StudyList studies={data.studies} />
    </>
  );
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function zkContracts(config: PublicConfig): ZkContracts | null {
  const c = config.contracts;
  return c?.IssuerRegistry && c.StudyRegistry && c.EligibilityVerifier
    ? { IssuerRegistry: c.IssuerRegistry, StudyRegistry: c.StudyRegistry, EligibilityVerifier: c.EligibilityVerifier, ...(c.ConsentToken ? { ConsentToken: c.ConsentToken } : {}) }
    : null;
}

function EligibilityWorkspace({ config, address, keys, data }: { config: PublicConfig; address: Address; keys: EncryptionKeyPair; data: LoaderData }) {
  const identity = useMemo(() => zkIdentity(keys), [keys]);
  const client = useMemo(() => publicClientFor(config.rpcUrl, config.chainId, { retryCount: 1 }) as PublicClient, [config.rpcUrl, config.chainId]);
  const contracts = zkContracts(config);
  const [credential, setCredential] = useState<Credential | null>(() => loadCredential(config.chainId, address, keys));
  const issuers = useQuery({
    queryKey: ['issuer-leaves', contracts?.IssuerRegistry],
    enabled: contracts !== null,
    queryFn: () => readIssuerLeaves(client, contracts!, { fromBlock: BigInt(config.startBlock) }),
    staleTime: 30_000,
  });
  return (
    <>
      <CredentialPanel
        config={config}
        address={address}
        keys={keys}
        identity={identity}
        credential={credential}
        accredited={credential && issuers.data ? issuers.data.leaves.includes(issuerLeaf([BigInt(credential.issuer.publicKey[0]), BigInt(credential.issuer.publicKey[1])])) : undefined}
        onCredential={setCredential}
      />
      <section className="panel" aria-labelledby="studies-title">
        <h2 id="studies-title">Studies</h2>
        <p className="muted">
          You enrol from a new address made for each study from your private identity, never from your wallet, so no
          study can link you to your wallet or to another study. That address never holds ether: it signs your enrolment
          and a relayer pays the fee.
        </p>
        {!config.relayerUrl ? <p className="error">No relayer is configured on this server (RELAYER_URL), so enrolment cannot be sent.</p> : null}
        {!data.problem && data.studies.length === 0 ? <p>No studies are open for enrolment yet.</p> : null}
        {!contracts ? <p className="error">The eligibility contracts are not deployed on this chain.</p> : null}
        {contracts
          ? data.studies.map((s) => (
              <StudyCard key={s.id} study={s} config={config} client={client} contracts={contracts} wallet={address} keys={keys} identity={identity} credential={credential} artifacts={data.artifacts} />
            ))
          : null}
      </section>
    </>
  );
}

type CredentialStep = { kind: 'idle' } | { kind: 'running'; what: string } | { kind: 'failed'; problem: string };

function CredentialPanel(props: {
  config: PublicConfig;
  address: Address;
  keys: EncryptionKeyPair;
  identity: ZkIdentity;
  credential: Credential | null;
  accredited: boolean | undefined;
  onCredential: (c: Credential | null) => void;
}) {
  const { config, address, keys, identity, credential, accredited, onCredential } = props;
  const [step, setStep] = useState<CredentialStep>({ kind: 'idle' });
  const issuerUrl = config.issuerUrl;
  const get = async () => {
    if (!issuerUrl) return;
    try {
      setStep({ kind: 'running', what: 'Decrypting your records in this browser…' });
      const resources = await myResources(keys);
      setStep({ kind: 'running', what: `Sending your ${resources.length} records to the issuer and waiting for its signature…` });
      const issued = await requestCredential(issuerUrl, resources, identity);
      saveCredential(config.chainId, address, keys, issued);
      onCredential(issued);
      setStep({ kind: 'idle' });
    } catch (err) {
      setStep({ kind: 'failed', problem: err instanceof Error && 'code' in err ? err.message : describeError(err, { rpcUrl: config.rpcUrl, stage: 'reading' }) });
    }
  };
  const running = step.kind === 'running';
  const expired = credential ? credential.expiresAt <= nowSeconds() : false;
  return (
    <section className="panel" aria-labelledby="credential-title" data-testid="credential-panel" data-state={credential ? (expired ? 'expired' : 'held') : 'none'}>
      <h2 id="credential-title">Your credential</h2>
      <p className="muted">
        An accredited issuer reads your records once and signs what a study may ask about: your age, sex, smoking status,
        conditions and a few measurements. The signed credential stays in this browser, sealed under your key; the proof
        uses it without showing it to anyone.
      </p>
      {credential ? (
        <>
          <dl className="attributes" data-testid="credential-attributes">
            {describeAttributes(credential.attributes, nowSeconds()).map((row) => (
              <div key={row.label}>
                <dt>{row.label}</dt>
                <dd>{row.value}</dd>
              </div>
            ))}
            <div>
              <dt>Issued</dt>
              <dd data-testid="credential-issued">{dateOf(credential.issuedAt)}</dd>
            </div>
            <div>
              <dt>Expires</dt>
              <dd data-testid="credential-expires">
                {dateOf(credential.expiresAt)}
                {expired ? <span className="badge badge--warn"> expired</span> : null}
              </dd>
            </div>
            <div>
              <dt>Issuer</dt>
              <dd>
                key {keyFingerprint(new TextEncoder().encode(credential.issuer.publicKey.join(':')))}
                {accredited === true ? <span className="badge badge--ok"> accredited</span> : accredited === false ? <span className="badge badge--warn"> no longer accredited</span> : null}
              </dd>
            </div>
          </dl>
        </>
      ) : (
        <p data-testid="credential-none">You have no credential in this browser yet.</p>
      )}
      {issuerUrl ? (
        <div className="button-row">
          <button type="button" className={credential ? 'button' : 'button button--primary'} disabled={running} onClick={() => void get()}>
            {credential ? 'Get a new credential' : 'Get a credential'}
          </button>
          {credential ? (
            <button
              type="button"
              className="button button--quiet"
              disabled={running}
              onClick={() => {
                forgetCredential(config.chainId, address);
                onCredential(null);
              }}
            >
              Forget this credential
            </button>
          ) : null}
        </div>
      ) : (
        <p className="error">No credential issuer is configured on this server (ISSUER_URL).</p>
      )}
      <p role="status" aria-live="polite" data-testid="credential-status">
        {running ? step.what : ''}
      </p>
      {step.kind === 'failed' ? (
        <p role="alert" className="error" data-testid="credential-problem">
          {step.problem}
        </p>
      ) : null}
    </section>
  );
}

type EnrolPhase =
  | { phase: 'idle' }
  | { phase: 'preparing'; what: string }
  | { phase: 'proving'; progress: ProofProgress }
  | { phase: 'pending'; hash: Hex | null; timings: ProofTimings }
  | { phase: 'confirmed'; hash: Hex; blockNumber: bigint; timings: ProofTimings; extractHash: Hex }
  | { phase: 'failed'; problem: string; hash?: Hex };

const shortHash = (h: string) => `${h.slice(0, 10)}…${h.slice(-6)}`;

function StudyCard(props: {
  study: StudyView;
  config: PublicConfig;
  client: PublicClient;
  contracts: ZkContracts;
  /** The wallet the patient signs in with (a claim to it is warned against: it links the study address). */
  wallet: Address;
  keys: EncryptionKeyPair;
  identity: ZkIdentity;
  credential: Credential | null;
  artifacts: ArtifactManifest;
}) {
  const { study, config, client, contracts, wallet, keys, identity, credential, artifacts } = props;
  const queryClient = useQueryClient();
  const revalidator = useRevalidator();
  const ids = useId();
  const studyId = BigInt(study.id);
  const account = useMemo(() => studyAccount(identity.secret, studyId), [identity.secret, studyId]);
  const enrolledKey = ['enrolled', study.id, account.address];
  const enrolled = useQuery({ queryKey: enrolledKey, queryFn: () => isEnrolled(client, contracts, studyId, account.address) });
  const terms = useQuery({ queryKey: ['study-terms', study.id], queryFn: () => readStudyTerms(client, contracts, studyId), staleTime: 60_000 });
  const consentKey = ['consent', study.id, account.address];
  const consentState = useQuery({
    queryKey: consentKey,
    enabled: enrolled.data === true && contracts.ConsentToken !== undefined,
    queryFn: () => readConsent(client, contracts, account.address, studyId),
  });
  const [revoking, setRevoking] = useState<{ phase: 'idle' } | { phase: 'pending' } | { phase: 'confirmed'; hash: Hex } | { phase: 'failed'; problem: string }>({ phase: 'idle' });
  const [checked, setChecked] = useState<(EligibilityResult & { for: Credential }) | null>(null);
  const [checking, setChecking] = useState(false);
  const [consent, setConsent] = useState(false);
  const [run, setRun] = useState<EnrolPhase>({ phase: 'idle' });
  const criteria = study.metadata?.criteria;
  const title = study.metadata?.title ?? `Study #${study.id}`;
  const check = checked && checked.for === credential ? checked : null;

  const chainNow = async () => Number((await client.getBlock({ blockTag: 'latest' })).timestamp);

  const runCheck = async () => {
    if (!credential || !criteria) return;
    setChecking(true);
    try {
      const time = proofTime(await chainNow().catch(nowSeconds), credential);
      setChecked({ ...checkEligibility(credential.attributes, criteria, { time, credential }), for: credential });
    } catch (err) {
      setChecked({ eligible: false, failures: [{ criterion: 'credential', message: err instanceof Error ? err.message : String(err) }], for: credential });
    } finally {
      setChecking(false);
    }
  };

  const busy = run.phase === 'preparing' || run.phase === 'proving' || run.phase === 'pending' || revoking.phase === 'pending';
  const relayerUrl = config.relayerUrl ?? null;
  const forwarder = config.contracts?.Forwarder ?? null;
  const committeeAddress = config.contracts?.ReleaseCommittee ?? null;
  const blocker = enrolBlocker({
    studyProblem: study.problem,
    artifactsProblem: artifacts.ready ? null : artifacts.problem,
    enrolled: enrolled.data,
    hasCredential: credential !== null,
    credentialExpired: credential ? credential.expiresAt <= nowSeconds() : false,
    checked: check,
    consent,
  });

  const proveAndEnrol = async () => {
    if (!credential || !criteria || !artifacts.ready || blocker) return;
    setRun({ phase: 'preparing', what: 'Reading the accredited issuers and the chain\'s time…' });
    let hash: Hex | undefined;
    try {
      // The chain decides, not this page's memory: another tab may have enrolled meanwhile.
      if (await isEnrolled(client, contracts, studyId, account.address)) throw new ActionRefusedError('StudyRegistry__AlreadyEnrolled', ALREADY_ENROLLED_WORDS);
      const [{ leaves }, now] = await Promise.all([readIssuerLeaves(client, contracts, { fromBlock: BigInt(config.startBlock) }), chainNow()]);
      const leaf = issuerLeaf([BigInt(credential.issuer.publicKey[0]), BigInt(credential.issuer.publicKey[1])]);
      if (!leaves.includes(leaf)) throw new ActionRefusedError('IssuerRegistry__UnknownIssuer', 'The issuer of your credential is not accredited any more: get a new credential');
      const time = proofTime(now, credential);
      const result = checkEligibility(credential.attributes, criteria, { time, credential });
      if (!result.eligible) {
        setChecked({ ...result, for: credential });
        throw new ActionRefusedError('NotEligible', 'You do not meet this study\'s criteria at the chain\'s current time (see above)');
      }
      if (!relayerUrl || !forwarder) throw new ActionRefusedError('NoRelayer', 'No relayer is configured on this server, so your enrolment cannot be sent without ether');
      if (!committeeAddress) throw new ActionRefusedError('NoCommittee', 'The release committee is not deployed, so your extract cannot be sealed');
      const onChain = terms.data ?? (await readStudyTerms(client, contracts, studyId));
      setRun({ phase: 'preparing', what: 'Building your de-identified extract in this browser and sealing it to the release committee…' });
      const [resources, committee] = await Promise.all([myResources(keys), readCurrentCommittee(config.rpcUrl, committeeAddress)]);
      const extract = await prepareExtract(resources, { studyId, categories: onChain.categories, committee });
      // Uploaded (ciphertext and sealed shares only) before enrolling: a registered hash always names bytes the committee holds.
      setRun({ phase: 'preparing', what: 'Sending your sealed extract to the server (only ciphertext leaves this browser)…' });
      await uploadSealedExtract(studyId, extract);
      const { bundle, timings } = await proveInBrowser(
        {
          credential,
          secret: identity.secret.toString(),
          criteria,
          studyId: study.id,
          recipient: account.address,
          issuerLeaves: leaves.map(String),
          time,
        },
        { wasm: artifacts.wasm, zkey: artifacts.zkey },
        (progress) => setRun({ phase: 'proving', progress }),
      );
      setRun({ phase: 'pending', hash: null, timings });
      // The per-study address signs; the relayer sends and pays. It answers once the chain has the transaction.
      const sent = await relayEnrolment(account, { client, forwarder, relayerUrl, chainNow: await chainNow(), studyRegistry: contracts.StudyRegistry }, studyId, bundle, extract.extractHash);
      hash = sent.hash;
      const receipt = await client.getTransactionReceipt({ hash: sent.hash });
      setRun({ phase: 'confirmed', hash: sent.hash, blockNumber: receipt.blockNumber, timings, extractHash: extract.extractHash });
      await queryClient.invalidateQueries({ queryKey: ['enrolled', study.id] });
      await queryClient.invalidateQueries({ queryKey: ['consent', study.id] });
      revalidator.revalidate(); // the participant count
    } catch (err) {
      const errorName = err instanceof ActionRefusedError ? err.errorName : undefined;
      const problem = isAlreadyEnrolledError(errorName) || isAlreadyEnrolledError((err as { code?: string }).code)
        ? ALREADY_ENROLLED_WORDS
        : err instanceof ActionRefusedError
          ? err.message
          : err instanceof Error && 'code' in err
            ? err.message
            : describeError(err, { rpcUrl: config.rpcUrl, stage: 'transaction' });
      setRun({ phase: 'failed', problem, ...(hash ? { hash } : {}) });
      if (isAlreadyEnrolledError(errorName)) await queryClient.invalidateQueries({ queryKey: ['enrolled', study.id] });
    }
  };

  const revoke = async () => {
    if (!relayerUrl || !forwarder || !contracts.ConsentToken) return;
    setRevoking({ phase: 'pending' });
    try {
      const sent = await relayRevocation(account, { client, forwarder, relayerUrl, chainNow: await chainNow(), consentToken: contracts.ConsentToken }, studyId);
      setRevoking({ phase: 'confirmed', hash: sent.hash });
      await queryClient.invalidateQueries({ queryKey: ['consent', study.id] });
      revalidator.revalidate();
    } catch (err) {
      setRevoking({ phase: 'failed', problem: err instanceof Error && 'code' in err ? err.message : describeError(err, { rpcUrl: config.rpcUrl, stage: 'transaction' }) });
    }
  };

  return (
    <article className="panel" aria-labelledby={`${ids}-title`} data-testid="study" data-study-id={study.id}>
      <div className="panel-header">
        <h3 id={`${ids}-title`}>{title}</h3>
        <span className={enrolled.data ? 'badge badge--ok' : 'badge'} data-testid="enrolment-status">
          {enrolled.data ? 'Enrolled' : enrolled.isPending ? 'Checking…' : enrolled.error ? 'Enrolment unknown' : 'Not enrolled'}
        </span>
      </div>
      {study.metadata?.summary ? <p>{study.metadata.summary}</p> : null}
      <p className="muted">
        Study #{study.id} · {study.participantCount} {study.participantCount === 1 ? 'participant' : 'participants'} so far
      </p>
      {study.criteriaInWords.length > 0 ? (
        <>
          <h4>Who can join</h4>
          <ul data-testid="study-criteria">
            {study.criteriaInWords.map((c) => (
              <li key={c.criterion}>{c.text}</li>
            ))}
          </ul>
        </>
      ) : null}
      {terms.data ? <StudyTerms terms={terms.data} /> : terms.error ? <p className="error">The study&apos;s terms cannot be read from the chain right now.</p> : null}
      <StudyDocuments study={study} />
      {study.problem ? (
        <p className="error" role="alert" data-testid="study-problem">
          {study.problem}
        </p>
      ) : null}
      {enrolled.data ? (
        <p data-testid="enrolled-note">
          You are enrolled in this study from address <code title={account.address}>{shortHash(account.address)}</code>.
        </p>
      ) : null}
      {enrolled.data && consentState.data ? (
        <div data-testid="consent" data-state={consentState.data.revoked ? 'revoked' : consentState.data.active ? 'active' : 'expired'}>
          <p data-testid="consent-expiry">
            {consentState.data.revoked
              ? 'You revoked your consent: you no longer count in this study\'s purchases.'
              : consentState.data.active
                ? `Your consent runs until ${dateOf(Number(consentState.data.expiresAt))}.`
                : `Your consent expired on ${dateOf(Number(consentState.data.expiresAt))}.`}
          </p>
          {consentState.data.active ? (
            <div className="button-row">
              <button type="button" className="button" disabled={busy || !relayerUrl || !forwarder} onClick={() => void revoke()}>
                Revoke consent
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
      {enrolled.data && contracts.ConsentToken ? (
        <div className="button-row">
          <ReceiptButton
            label="Download consent receipt (FHIR)"
            testId="enrollment-receipt"
            fileName={receiptFileName('enrollment', `study-${study.id}`)}
            build={() => enrollmentReceipt(client, { chainId: config.chainId, contracts, fromBlock: BigInt(config.startBlock), studyId, participant: account.address })}
            describe={(err) => describeError(err, { rpcUrl: config.rpcUrl, stage: 'reading' })}
          />
        </div>
      ) : null}
      {enrolled.data && config.contracts?.StudyMarket ? (
        <StudyEarnings
          studyId={studyId}
          account={account}
          wallet={wallet}
          client={client}
          contracts={{ StudyMarket: config.contracts.StudyMarket, StudyRegistry: contracts.StudyRegistry, Forwarder: config.contracts.Forwarder }}
          relayerUrl={relayerUrl}
        />
      ) : null}
      {enrolled.data && config.contracts?.StudyMarket ? (
        <EarningsChart
          client={client}
          contracts={{ StudyMarket: config.contracts.StudyMarket, StudyRegistry: contracts.StudyRegistry }}
          studyId={studyId}
          holder={account.address}
          fromBlock={BigInt(config.startBlock)}
        />
      ) : null}
      {revoking.phase !== 'idle' ? (
        <p role={revoking.phase === 'failed' ? 'alert' : 'status'} className={revoking.phase === 'failed' ? 'error' : undefined} data-testid="revoke-status" data-phase={revoking.phase}>
          {revoking.phase === 'pending' ? 'Revoking: your study address signed, the relayer is sending it…' : null}
          {revoking.phase === 'confirmed' ? <>Consent revoked · <code title={revoking.hash}>{shortHash(revoking.hash)}</code></> : null}
          {revoking.phase === 'failed' ? `Your consent was not revoked: ${revoking.problem}` : null}
        </p>
      ) : null}
      {enrolled.error ? (
        <p className="error" role="alert">
          Whether you are enrolled cannot be read: {describeError(enrolled.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}

      {criteria && !study.problem ? (
        <>
          <div className="button-row">
            <button type="button" className="button" disabled={!credential || checking || busy || enrolled.data === true} onClick={() => void runCheck()}>
              {checking ? 'Checking…' : 'Check eligibility'}
            </button>
          </div>
          <div data-testid="eligibility-result" aria-live="polite">
            {check?.eligible ? (
              <p className="notice" data-testid="eligible">
                You meet every criterion of this study. Nothing has been sent: this was checked in this browser.
              </p>
            ) : null}
            {check && !check.eligible ? (
              <>
                <p className="error">You do not meet this study&apos;s criteria (checked in this browser, nothing was sent):</p>
                <ul data-testid="eligibility-failures">
                  {check.failures.map((f) => (
                    <li key={`${f.criterion}:${f.message}`} data-criterion={f.criterion}>
                      {f.message}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
          </div>
          <label className="consent">
            <input type="checkbox" checked={consent} disabled={busy} onChange={(e) => setConsent(e.target.checked)} />{' '}
            {study.consentText !== null ? 'I have read the consent text above and ' : 'I '}agree to take part in &ldquo;{title}&rdquo; and to enrol
            with a zero-knowledge proof from an address made for this study
          </label>
          <div className="button-row">
            <button
              type="button"
              className="button button--primary"
              disabled={blocker !== null || busy}
              aria-describedby={blocker ? `${ids}-blocker` : undefined}
              onClick={() => void proveAndEnrol()}
            >
              Prove and enrol
            </button>
          </div>
          {blocker && !busy ? (
            <p id={`${ids}-blocker`} className="muted" data-testid="enrol-blocker">
              {blocker}
            </p>
          ) : null}
        </>
      ) : null}
      <EnrolStatus run={run} />
    </article>
  );
}

interface EarningsPoint {
  /** Unix seconds. */
  at: number;
  label: string;
  claimed: number;
  earned: number;
}

/**
 * A participant's earnings in one study over time, from the chain: each claim (StudyMarket's
 * Claimed events of the study address) and now. A claim takes everything claimable, so right after
 * one the earnings to date equal the sum claimed; now they are that sum plus what is claimable.
 */
async function readEarningsHistory(
  client: PublicClient,
  contracts: { StudyMarket: Address; StudyRegistry: Address },
  studyId: bigint,
  holder: Address,
  fromBlock: bigint,
): Promise<{ points: EarningsPoint[]; unit: string; claimed: bigint; claimable: bigint }> {
  const [claims, enrolments, claimable, study, latest] = await Promise.all([
    client.getContractEvents({ address: contracts.StudyMarket, abi: studyMarketAbi, eventName: 'Claimed', fromBlock, args: { studyId, holder } }),
    client.getContractEvents({ address: contracts.StudyRegistry, abi: studyRegistryAbi, eventName: 'Enrolled', fromBlock, args: { studyId, participant: holder } }),
    client.readContract({ address: contracts.StudyMarket, abi: studyMarketAbi, functionName: 'claimable', args: [studyId, holder] }),
    client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'studyOf', args: [studyId] }),
    client.getBlock({ blockTag: 'latest' }),
  ]);
  const free = study.paymentToken === '0x0000000000000000000000000000000000000000';
  const [decimals, unit] = free
    ? [0, 'units']
    : await Promise.all([
        client.readContract({ address: study.paymentToken, abi: erc20Abi, functionName: 'decimals' }),
        client.readContract({ address: study.paymentToken, abi: erc20Abi, functionName: 'symbol' }).catch(() => 'tokens'),
      ]);
  const value = (amount: bigint) => Number(formatUnits(amount, decimals));
  const timeOf = async (blockNumber: bigint) => Number((await client.getBlock({ blockNumber })).timestamp);
  const point = (at: number, claimed: bigint, earned: bigint): EarningsPoint => ({ at, label: dateOf(at), claimed: value(claimed), earned: value(earned) });
  const points: EarningsPoint[] = [];
  if (enrolments[0]) points.push(point(await timeOf(enrolments[0].blockNumber), 0n, 0n));
  let claimed = 0n;
  for (const c of claims) {
    claimed += c.args.amount!;
    points.push(point(await timeOf(c.blockNumber), claimed, claimed));
  }
  points.push(point(Number(latest.timestamp), claimed, claimed + claimable));
  return { points, unit, claimed, claimable };
}

/** The participant's earnings in a study over time, as a chart, with its numbers in words for screen readers. */
function EarningsChart(props: { client: PublicClient; contracts: { StudyMarket: Address; StudyRegistry: Address }; studyId: bigint; holder: Address; fromBlock: bigint }) {
  const { client, contracts, studyId, holder, fromBlock } = props;
  const ids = useId();
  const history = useQuery({
    queryKey: ['earnings-history', studyId.toString(), holder],
    queryFn: () => readEarningsHistory(client, contracts, studyId, holder, fromBlock),
    refetchInterval: 5_000,
  });
  if (!history.data) return null;
  const { points, unit, claimed, claimable } = history.data;
  const last = points.at(-1)!;
  return (
    <figure className="earnings-chart" data-testid="earnings-chart" data-claimed={claimed.toString()} data-claimable={claimable.toString()}>
      <figcaption id={`${ids}-caption`}>
        Your earnings in this study over time ({unit}): {last.earned} earned so far, {last.claimed} of it claimed
      </figcaption>
      <div role="img" aria-labelledby={`${ids}-caption`} style={{ width: '100%', height: 200 }}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="label" />
            <YAxis />
            <Tooltip />
            <Legend />
            <Line type="linear" dataKey="earned" name="Earned to date" stroke="#0b5c53" isAnimationActive={false} />
            <Line type="stepAfter" dataKey="claimed" name="Claimed" stroke="#1f4e9c" isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

interface StudyTermsView {
  categories: bigint;
  consentDuration: bigint;
  minCohort: number;
  consentHash: Hex;
  price: string;
}

async function readStudyTerms(client: PublicClient, contracts: ZkContracts, studyId: bigint): Promise<StudyTermsView> {
  const s = await readStudy(client, contracts, studyId);
  if (!s) throw new ActionRefusedError('StudyRegistry__UnknownStudy', `Study #${studyId} is not on this chain`);
  let price = 'free';
  if (s.pricePerParticipant > 0n && s.paymentToken !== '0x0000000000000000000000000000000000000000') {
    const [decimals, symbol] = await Promise.all([
      client.readContract({ address: s.paymentToken, abi: erc20Abi, functionName: 'decimals' }),
      client.readContract({ address: s.paymentToken, abi: erc20Abi, functionName: 'symbol' }).catch(() => 'tokens'),
    ]);
    price = `${formatUnits(s.pricePerParticipant, decimals)} ${symbol}`;
  }
  return { categories: BigInt(s.categories), consentDuration: BigInt(s.consentDuration), minCohort: Number(s.minCohort), consentHash: s.consentHash, price };
}

/** The consent text to read before agreeing, and the protocol; each checked against its hash on chain. */
function StudyDocuments({ study }: { study: StudyView }) {
  return (
    <div data-testid="study-documents">
      {study.consentText !== null ? (
        <>
          <h4 id={`consent-text-${study.id}`}>Consent text</h4>
          <div className="document" role="document" tabIndex={0} aria-labelledby={`consent-text-${study.id}`} data-testid="consent-text">
            {study.consentText.split(/\n{2,}/).map((para, i) => (
              <p key={i}>{para}</p>
            ))}
          </div>
        </>
      ) : null}
      {study.protocolText !== null ? (
        <details data-testid="protocol-text">
          <summary>Study protocol</summary>
          {study.protocolText.split(/\n{2,}/).map((para, i) => (
            <p key={i}>{para}</p>
          ))}
        </details>
      ) : null}
      {study.documentProblem ? (
        <p className="error" data-testid="document-problem">
          {study.documentProblem}
        </p>
      ) : null}
    </div>
  );
}

/** The study's terms as the chain holds them, and what enrolling shares and does not share. */
function StudyTerms({ terms }: { terms: StudyTermsView }) {
  const wanted = categoriesWanted(terms.categories);
  return (
    <div data-testid="study-terms">
      <h4>Terms</h4>
      <dl className="attributes">
        <div>
          <dt>Paid to participants per purchase</dt>
          <dd data-testid="terms-price">{terms.price}</dd>
        </div>
        <div>
          <dt>Consent lasts</dt>
          <dd data-testid="terms-duration">{durationInWords(terms.consentDuration)}</dd>
        </div>
        <div>
          <dt>Records wanted</dt>
          <dd data-testid="terms-categories">{wanted.length > 0 ? wanted.join(', ') : 'none'}</dd>
        </div>
        <div>
          <dt>Smallest cohort sold</dt>
          <dd data-testid="terms-k">{terms.minCohort} participants</dd>
        </div>
        <div>
          <dt>Consent text</dt>
          <dd>
            hash <code title={terms.consentHash}>{shortHash(terms.consentHash)}</code>
          </dd>
        </div>
      </dl>
      <h4>What is shared</h4>
      <p>
        A de-identified extract of your records in the categories above, built in this browser and sealed to the release
        committee: a buyer can open it only when the committee confirms a purchase of at least {terms.minCohort} participants.
        Before it is sealed, the HIPAA Safe Harbor identifiers are removed:
      </p>
      <ul data-testid="safe-harbor-list">
        {SAFE_HARBOR_REMOVES.map((w) => (
          <li key={w}>{w}</li>
        ))}
      </ul>
      <p>
        Not shared: your wallet, your name and identity, your credential&apos;s values, and any record outside the categories
        above. You can revoke your consent at any time; extracts already bought stay with their buyer.
      </p>
    </div>
  );
}

function EnrolStatus({ run }: { run: EnrolPhase }) {
  if (run.phase === 'idle') return null;
  const timings = run.phase === 'pending' || run.phase === 'confirmed' ? run.timings : null;
  return (
    <div className="tx-status" data-testid="enrol-status" data-phase={run.phase}>
      {run.phase === 'proving' ? (
        <>
          <progress max={1} value={progressFraction(run.progress)} aria-label="Proof progress" />
          <p role="status" aria-live="polite" data-testid="proof-stage" data-stage={run.progress.stage}>
            {describeProgress(run.progress)}
          </p>
        </>
      ) : null}
      {run.phase === 'preparing' ? <p role="status">{run.what}</p> : null}
      {timings ? (
        <p data-testid="proof-timings" data-prove-ms={timings.proveMs} data-total-ms={timings.totalMs} data-artifacts-ms={timings.artifactsMs} data-source={timings.source}>
          Proof made in this browser in {(timings.totalMs / 1000).toFixed(1)} s
          {timings.source === 'network' ? ` (${(timings.artifactsMs / 1000).toFixed(1)} s of it loading the proving files)` : ''}.
        </p>
      ) : null}
      {run.phase === 'pending' ? (
        <p role="status" aria-live="polite">
          Pending: {run.hash ? <>transaction <code title={run.hash}>{shortHash(run.hash)}</code> sent, waiting for the chain…</> : 'your study address signed your enrolment; the relayer is sending it and paying the fee…'}
        </p>
      ) : null}
      {run.phase === 'confirmed' ? (
        <p role="status" data-testid="enrol-confirmed">
          Enrolled: confirmed in block {run.blockNumber.toString()} · <code title={run.hash} data-testid="enrol-hash">{run.hash}</code>
        </p>
      ) : null}
      {run.phase === 'confirmed' ? (
        <p className="muted" data-testid="extract-hash" data-extract-hash={run.extractHash}>
          Your sealed extract&apos;s hash, registered with your enrolment: <code title={run.extractHash}>{shortHash(run.extractHash)}</code>. The server
          holds it sealed; the release committee opens it only for a confirmed purchase.
        </p>
      ) : null}
      {run.phase === 'failed' ? (
        <p role="alert" className="error" data-testid="enrol-problem">
          Failed: {run.problem}
          {run.hash ? (
            <>
              {' '}
              (transaction <code title={run.hash}>{shortHash(run.hash)}</code>)
            </>
          ) : null}
        </p>
      ) : null}
    </div>
  );
}

export function ErrorBoundary() {
  return (
    <div className="page">
      <h1>Studies</h1>
      <p role="alert" className="error">
        This page could not be shown. Reload it; if this keeps happening, check that Consentry is running (npm start).
      </p>
    </div>
  );
}
