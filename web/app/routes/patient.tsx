import type { MetaFunction } from '@remix-run/node';
import { Link, useRouteLoaderData } from '@remix-run/react';
import { useQuery } from '@tanstack/react-query';
import { useState, useSyncExternalStore } from 'react';
import type { Address } from 'viem';
import { useAccount, useConfig, useReadContract, useSwitchChain } from 'wagmi';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import { keyFingerprint } from '@consentry/sdk/keys';
import { ConnectPanel, shortAddress } from '../components/ConnectWallet.tsx';
import { MovedAway } from '../components/MovedAway.tsx';
import { RecoveryBanner } from '../components/RecoveryBanner.tsx';
import { describeError } from '../lib/errors.ts';
import { keyFor, subscribeKeys } from '../lib/keyring.ts';
import { fetchPatient, type IndexedPatient } from '../lib/patient-status.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import { signUp, type SignUpProgress } from '../lib/signup.ts';
import { usePatientAccount } from '../lib/use-patient-account.ts';
import type { loader as rootLoader } from '../root.tsx';

export const meta: MetaFunction = () => [{ title: 'Patient sign-up · Consentry' }];

export default function PatientPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const { address, status } = useAccount();
  if (!config) return null;
  return (
    <div className="page page--narrow">
      <h1>Patient sign-up</h1>
      <p className="lead">
        Signing up registers your wallet address with the public half of an encryption key. Your wallet signs one
        message (free, no transaction) from which this browser derives the key; the secret half never leaves this page.
      </p>
      {status === 'connected' && address ? (
        <PatientGate key={address} config={config} address={address} />
      ) : (
        <section aria-labelledby="connect-title" className="panel">
          <h2 id="connect-title">Connect a wallet to begin</h2>
          {status === 'reconnecting' || status === 'connecting' ? (
            <p role="status">Reconnecting your wallet…</p>
          ) : (
            <ConnectPanel config={config} />
          )}
        </section>
      )}
    </div>
  );
}

type View = 'checking' | 'unregistered' | 'waiting-for-indexer' | 'registered';

/** The account this wallet acts for: its own, or one a recovery moved to it (decision 031). */
function PatientGate({ config, address }: { config: PublicConfig; address: Address }) {
  const patient = usePatientAccount(config, address);
  if (!patient.account) {
    return (
      <section className="panel" aria-labelledby="status-title" data-testid="patient-status" data-status="checking">
        <h2 id="status-title">Your status</h2>
        <p role="status">Checking your registration…</p>
      </section>
    );
  }
  if (patient.movedTo) return <MovedAway wallet={address} movedTo={patient.movedTo} />;
  return (
    <>
      {patient.controls ? <RecoveryBanner config={config} wallet={address} account={patient.account} /> : null}
      <PatientAccount key={patient.account} config={config} wallet={address} account={patient.account} />
    </>
  );
}

/** `wallet` signs; `account` is the patient account it acts for (the same address unless recovered). */
function PatientAccount({ config, wallet: address, account }: { config: PublicConfig; wallet: Address; account: Address }) {
  const wagmiConfig = useConfig();
  const { chainId: walletChainId } = useAccount();
  const { switchChain, isPending: switching, error: switchError } = useSwitchChain();
  const [progress, setProgress] = useState<SignUpProgress>({ stage: 'idle' });
  const registry = config.contracts?.PatientRegistry;

  const onChain = useReadContract({
    address: registry,
    abi: patientRegistryAbi,
    functionName: 'isRegistered',
    args: [account],
    chainId: config.chainId,
    query: { enabled: Boolean(registry) },
  });

  const registeredOnChain = onChain.data === true || progress.stage === 'confirmed';
  const indexed = useQuery({
    queryKey: ['patient', config.chainId, account.toLowerCase()],
    queryFn: () => fetchPatient(account),
    // Until the index has the patient we poll, but only when the chain says there is something to see.
    refetchInterval: (q) => (q.state.data ? false : registeredOnChain ? 1000 : false),
  });

  const patient = indexed.data ?? null;
  const view: View = patient
    ? 'registered'
    : registeredOnChain
      ? 'waiting-for-indexer'
      : indexed.isPending || onChain.isPending
        ? 'checking'
        : 'unregistered';

  const busy = progress.stage === 'signing' || progress.stage === 'sending' || progress.stage === 'pending';
  const wrongChain = walletChainId !== undefined && walletChainId !== config.chainId;

  const start = () => {
    if (!registry) return;
    void signUp({ config: wagmiConfig, account: address, chainId: config.chainId, registry, rpcUrl: config.rpcUrl }, (p) => {
      setProgress(p);
      if (p.stage === 'confirmed' || p.stage === 'failed') {
        void onChain.refetch();
        void indexed.refetch();
      }
    });
  };

  return (
    <>
      <section className="panel" aria-labelledby="status-title" data-testid="patient-status" data-status={view}>
        <h2 id="status-title">Your status</h2>
        <p className="muted">
          Wallet <code title={address}>{shortAddress(address)}</code>
          {account.toLowerCase() !== address.toLowerCase() ? (
            <>
              {' '}
              · acting for account <code title={account} data-testid="patient-account">{shortAddress(account)}</code>, recovered to this wallet
            </>
          ) : null}
        </p>
        {view === 'registered' && patient ? <Registered patient={patient} address={address} /> : null}
        {view === 'waiting-for-indexer' ? (
          <p role="status" className="notice">
            Registered on chain. Waiting for the indexer to see it…
          </p>
        ) : null}
        {view === 'checking' ? <p role="status">Checking your registration…</p> : null}
        {view === 'unregistered' ? <p>Not registered yet.</p> : null}
        {indexed.isError ? (
          <p className="error" role="alert">
            The index is not answering right now ({indexed.error.message.replace(/ at .*/, '')}); your status will appear
            when it is back.
          </p>
        ) : null}
        {onChain.isError ? (
          <p className="error" role="alert">
            {describeError(onChain.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
          </p>
        ) : null}
      </section>

      {view !== 'registered' || progress.stage !== 'idle' ? (
        <section className="panel" aria-labelledby="signup-title">
          <h2 id="signup-title">Sign up</h2>
          {wrongChain ? (
            <div className="notice">
              <p>Your wallet is on another network (chain {walletChainId}); Consentry runs on chain {config.chainId}.</p>
              <button
                type="button"
                className="button"
                disabled={switching}
                onClick={() => switchChain({ chainId: config.chainId })}
              >
                Switch network
              </button>
              {switchError ? (
                <p className="error" role="alert">
                  {describeError(switchError, { rpcUrl: config.rpcUrl, stage: 'connecting' })}
                </p>
              ) : null}
            </div>
          ) : null}
          {view === 'unregistered' || view === 'checking' || busy || progress.stage === 'failed' ? (
            <button
              type="button"
              className="button button--primary button--large"
              onClick={start}
              disabled={busy || !registry || wrongChain || view === 'checking'}
            >
              {progress.stage === 'failed' ? 'Try again' : 'Sign up as a patient'}
            </button>
          ) : null}
          <Progress progress={progress} indexed={Boolean(patient)} />
        </section>
      ) : null}
    </>
  );
}

function Registered({ patient, address }: { patient: IndexedPatient; address: Address }) {
  const local = useSyncExternalStore(subscribeKeys, () => keyFor(address), () => undefined);
  const fingerprint = keyFingerprint(patient.encryptionKey as `0x${string}`);
  const localMatches = local ? keyFingerprint(local.publicKey) === fingerprint : undefined;
  const when = new Date(Number(patient.registeredAtTimestamp) * 1000);
  return (
    <div className="registered">
      <p className="badge" role="status">
        Registered
      </p>
      <dl className="facts">
        <dt>Encryption key fingerprint</dt>
        <dd>
          <code data-testid="key-fingerprint">{fingerprint}</code>
        </dd>
        <dt>Registered</dt>
        <dd>
          block {patient.registeredAtBlock.toString()}, <time dateTime={when.toISOString()}>{when.toLocaleString()}</time>
        </dd>
        <dt>Key rotations</dt>
        <dd>{patient.keyRotations}</dd>
      </dl>
      {localMatches === true ? (
        <p className="hint">
          This browser holds the matching secret key, in memory only: it is forgotten when you close the tab and derived
          again from your wallet when needed.
        </p>
      ) : null}
      {localMatches === false ? (
        <p className="notice">
          The key derived in this browser does not match the registered key (was it rotated?). If a recovery moved your account to this wallet,
          restore your key and re-seal your records on the <Link to="/recovery">Recovery</Link> page.
        </p>
      ) : null}
    </div>
  );
}

type StepState = 'todo' | 'active' | 'done' | 'failed';

function Progress({ progress, indexed }: { progress: SignUpProgress; indexed: boolean }) {
  if (progress.stage === 'idle') return null;
  const order = ['signing', 'sending', 'pending', 'confirmed'] as const;
  const failedAt = progress.stage === 'failed' ? (progress.during === 'signing' ? 0 : progress.hash ? 2 : 1) : -1;
  const reached = progress.stage === 'failed' ? failedAt : order.indexOf(progress.stage);
  const state = (i: number): StepState => {
    if (i === failedAt) return 'failed';
    if (i < reached) return 'done';
    if (i === reached) return i === 3 && indexed ? 'done' : 'active';
    return 'todo';
  };
  const hash = 'hash' in progress ? progress.hash : undefined;

  const steps: Array<{ label: string; detail?: string | undefined }> = [
    { label: 'Sign the key message in your wallet', detail: 'fingerprint' in progress ? `key ${progress.fingerprint}` : undefined },
    { label: 'Send the registration transaction' },
    { label: 'Wait for the transaction to be confirmed', detail: hash ? `transaction ${shortAddress(hash)}` : undefined },
    {
      label: 'See your status in the index',
      detail:
        progress.stage === 'confirmed'
          ? indexed
            ? `confirmed in block ${progress.blockNumber}; indexed`
            : `confirmed in block ${progress.blockNumber}; waiting for the indexer`
          : undefined,
    },
  ];

  return (
    <div className="progress">
      <ol className="steps">
        {steps.map((s, i) => (
          <li key={s.label} data-state={state(i)}>
            <span className="steps__label">{s.label}</span>
            {s.detail ? <span className="steps__detail">{s.detail}</span> : null}
            <span className="visually-hidden"> ({state(i)})</span>
          </li>
        ))}
      </ol>
      <p role="status" aria-live="polite" data-testid="signup-progress" data-stage={progress.stage}>
        {progressMessage(progress, indexed)}
      </p>
      {progress.stage === 'failed' ? (
        <p className="error" role="alert" data-testid="signup-error">
          {progress.reason}
        </p>
      ) : null}
    </div>
  );
}

function progressMessage(p: SignUpProgress, indexed: boolean): string {
  switch (p.stage) {
    case 'idle':
      return '';
    case 'signing':
      return 'Waiting for your signature…';
    case 'sending':
      return 'Sending the registration transaction…';
    case 'pending':
      return `Transaction pending (${shortAddress(p.hash)})…`;
    case 'confirmed':
      return indexed
        ? `Confirmed in block ${p.blockNumber}. You are registered.`
        : `Confirmed in block ${p.blockNumber}. Waiting for the indexer…`;
    case 'failed':
      return 'Sign-up did not complete.';
  }
}
