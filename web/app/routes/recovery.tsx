import type { LinksFunction, MetaFunction } from '@remix-run/node';
import { useRouteLoaderData, useSearchParams } from '@remix-run/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState, useSyncExternalStore, type FormEvent, type ReactNode } from 'react';
import { isAddress, type Address, type Hex } from 'viem';
import { useConfig } from 'wagmi';
import { signTypedData } from 'wagmi/actions';
import { useAccount } from 'wagmi';
import { deriveEncryptionKeyPair, keyDerivationTypedData, keyFingerprint, type EncryptionKeyPair } from '@consentry/sdk/keys';
import { paperPhraseOf } from '@consentry/sdk/recovery/paper';
import { ConnectPanel, shortAddress } from '../components/ConnectWallet.tsx';
import { MovedAway } from '../components/MovedAway.tsx';
import { RecoveryBanner, useRecoveryState } from '../components/RecoveryBanner.tsx';
import { TxStatus, useRegistryTx } from '../components/RegistryTx.tsx';
import { describeError } from '../lib/errors.ts';
import { keyFor, rememberKey, subscribeKeys } from '../lib/keyring.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import { ensureSession } from '../lib/records.client.ts';
import {
  accountsGuardedBy,
  backUpToGuardians,
  fetchBackup,
  fetchReleased,
  guardianKeyOf,
  releaseMyShare,
  restoreFromGuardians,
  restoreFromPaper,
  rotateToWalletKey,
  type RotationStage,
} from '../lib/recovery.client.ts';
import {
  backupStaleness,
  chainTime,
  DEFAULT_DELAY_HOURS,
  hoursInWords,
  MAX_DELAY_HOURS,
  MAX_GUARDIANS,
  MIN_DELAY_HOURS,
  parseRecoveryRequest,
  recoveryLink,
  sameAddress,
  untilInWords,
  type RecoveryRequest,
  type RecoveryState,
} from '../lib/recovery.ts';
import { usePatientAccount } from '../lib/use-patient-account.ts';
import type { loader as rootLoader } from '../root.tsx';
import recoveryStyles from '../recovery.css?url';

export const meta: MetaFunction = () => [{ title: 'Recovery · Consentry' }];

export const links: LinksFunction = () => [{ rel: 'stylesheet', href: recoveryStyles }];

export default function RecoveryPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const { address, status } = useAccount();
  const [params] = useSearchParams();
  const request = useMemo(() => parseRecoveryRequest(params), [params]);
  if (!config) return null;
  return (
    <div className="page recovery-page">
      <h1>Key loss and recovery</h1>
      <p className="lead no-print">
        Your wallet opens your account and derives the key your records are sealed to. If you lose it, guardians you chose
        can move your account to a new wallet, after a waiting period in which your old wallet can still say no; your key
        comes back from their shares of your backup, or from your paper backup, and your records are re-sealed to the new
        wallet&apos;s key. Nobody else can do this, and no guardian alone can.
      </p>
      {status === 'connected' && address ? (
        <RecoveryWorkspace key={address} config={config} wallet={address} request={request} />
      ) : (
        <section aria-labelledby="recovery-connect" className="panel no-print">
          <h2 id="recovery-connect">Connect a wallet</h2>
          <p>
            Connect the wallet you use with Consentry to set up guardians and backups, the wallet of a guardian to help
            someone, or a new wallet if you lost yours.
          </p>
          {status === 'reconnecting' || status === 'connecting' ? <p role="status">Reconnecting your wallet…</p> : <ConnectPanel config={config} />}
        </section>
      )}
    </div>
  );
}

/** This wallet's encryption key: derived in this page from a free signature, kept in memory only. */
function useWalletKey(config: PublicConfig, wallet: Address) {
  const wagmi = useConfig();
  const keys = useSyncExternalStore(subscribeKeys, () => keyFor(wallet), () => undefined);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const derive = async (): Promise<EncryptionKeyPair | undefined> => {
    const known = keyFor(wallet);
    if (known) return known;
    setBusy(true);
    setProblem(null);
    try {
      const signature = await signTypedData(wagmi, { account: wallet, ...keyDerivationTypedData(config.chainId) });
      const pair = deriveEncryptionKeyPair(signature);
      rememberKey(wallet, pair);
      return pair;
    } catch (err) {
      setProblem(describeError(err, { rpcUrl: config.rpcUrl, stage: 'signing' }));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { keys, derive, busy, problem };
}

type WalletKey = ReturnType<typeof useWalletKey>;

/** A button's async work with its busy state and its failure in words. */
function useWork() {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setProblem(null);
    try {
      await work();
    } catch (err) {
      setProblem(err instanceof Error && !('shortMessage' in err) ? err.message : describeError(err, { rpcUrl: '', stage: 'reading' }));
    } finally {
      setBusy(false);
    }
  };
  const alert = (testId?: string) =>
    problem ? (
      <p role="alert" className="error" data-testid={testId}>
        {problem}
      </p>
    ) : null;
  return { busy, problem, run, alert };
}

function RecoveryWorkspace({ config, wallet, request }: { config: PublicConfig; wallet: Address; request: RecoveryRequest }) {
  const patient = usePatientAccount(config, wallet);
  const key = useWalletKey(config, wallet);
  if (!config.contracts?.PatientRegistry) return null;
  if (patient.isPending) return <p role="status">Checking what this wallet controls…</p>;
  const guardianFirst = Boolean(request.newWallet && !sameAddress(request.newWallet, wallet));
  const guardian = <GuardianPanel config={config} wallet={wallet} walletKey={key} request={guardianFirst ? request : null} />;
  return (
    <>
      {patient.error ? (
        <p role="alert" className="error">
          {describeError(patient.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
        </p>
      ) : null}
      {guardianFirst ? guardian : null}
      {patient.movedTo ? (
        <MovedAway wallet={wallet} movedTo={patient.movedTo} />
      ) : patient.controls && patient.account ? (
        <AccountWorkspace config={config} wallet={wallet} account={patient.account} walletKey={key} />
      ) : (
        <LostWalletPanel config={config} wallet={wallet} walletKey={key} request={request} />
      )}
      {guardianFirst ? null : guardian}
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// The patient's own account

function AccountWorkspace({ config, wallet, account, walletKey }: { config: PublicConfig; wallet: Address; account: Address; walletKey: WalletKey }) {
  const state = useRecoveryState(config, account);
  const s = state.data;
  const keyMatches = Boolean(s?.encryptionKey && walletKey.keys && s.encryptionKey.toLowerCase() === walletKey.keys.publicKeyHex.toLowerCase());
  return (
    <>
      <div className="no-print">
        <RecoveryBanner config={config} wallet={wallet} account={account} />
      </div>
      <section className="panel no-print" aria-labelledby="account-title" data-testid="account-panel">
        <h2 id="account-title">Your account</h2>
        <dl className="facts">
          <dt>Account</dt>
          <dd>
            <code data-testid="account-address">{account}</code>
          </dd>
          {!sameAddress(account, wallet) ? (
            <>
              <dt>Controlled by</dt>
              <dd>
                this wallet, <code>{wallet}</code>, since a recovery
              </dd>
            </>
          ) : null}
          <dt>Encryption key on chain</dt>
          <dd>{s?.encryptionKey ? <code data-testid="chain-key-fingerprint">{keyFingerprint(s.encryptionKey)}</code> : '…'}</dd>
          <dt>This wallet&apos;s key</dt>
          <dd>
            {walletKey.keys ? (
              <>
                <code>{keyFingerprint(walletKey.keys.publicKey)}</code> {keyMatches ? '(the same: your records open here)' : '(not the key on chain)'}
              </>
            ) : (
              <button type="button" className="link-button" disabled={walletKey.busy} onClick={() => void walletKey.derive()}>
                {walletKey.busy ? 'Waiting for your wallet…' : 'Derive it (a free signature)'}
              </button>
            )}
          </dd>
        </dl>
        {walletKey.problem ? (
          <p role="alert" className="error">
            {walletKey.problem}
          </p>
        ) : null}
        {state.error ? (
          <p role="alert" className="error">
            {describeError(state.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
          </p>
        ) : null}
      </section>
      {s ? (
        <>
          <KeyRestorePanel config={config} wallet={wallet} state={s} walletKey={walletKey} />
          <GuardiansPanel config={config} wallet={wallet} state={s} />
          <BackupPanel config={config} wallet={wallet} state={s} walletKey={walletKey} />
          <PaperBackupPanel state={s} walletKey={walletKey} />
        </>
      ) : state.isPending ? (
        <p role="status">Reading your account on chain…</p>
      ) : null}
    </>
  );
}

/** The risks a patient must read and tick before naming guardians, in the terms they are choosing. */
const checklist = (threshold: number, delayHours: number) =>
  [
    { id: 'quorum', text: `Any ${threshold} of my guardians together can take my account and read my records. I trust each of them with that.` },
    { id: 'strangers', text: 'I chose people (or services) who do not know each other, so they are unlikely to act together behind my back.' },
    { id: 'two', text: 'At least 2 must approve (a threshold of 2 or more): one guardian alone can never take my account.' },
    {
      id: 'wait',
      text: `A recovery waits ${hoursInWords(delayHours * 3600)} after enough guardians approve. Until it completes this wallet can cancel it, and I will look out for the notice on the Patients and Recovery pages.`,
    },
    { id: 'signed-up', text: 'Each guardian has signed up with Consentry: they need a key of their own to hold a share of my backup.' },
    { id: 'paper', text: 'If I print a paper backup, I keep it offline and safe: whoever holds the paper holds my key.' },
  ] as const;

function GuardiansPanel({ config, wallet, state }: { config: PublicConfig; wallet: Address; state: RecoveryState }) {
  const id = useId();
  const tx = useRegistryTx(config, wallet);
  const applyTx = useRegistryTx(config, wallet);
  const [editing, setEditing] = useState(false);
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const [addresses, setAddresses] = useState<string[]>(['', '', '']);
  const [threshold, setThreshold] = useState(2);
  const [delayHours, setDelayHours] = useState(DEFAULT_DELAY_HOURS);
  const [problems, setProblems] = useState<string[]>([]);
  const [checking, setChecking] = useState(false);
  const hasGuardians = state.guardians.length > 0;
  const risks = checklist(threshold, delayHours > 0 ? delayHours : DEFAULT_DELAY_HOURS);
  const allTicked = risks.every((c) => ticked.has(c.id));
  const showForm = !hasGuardians || editing;
  const pending = state.pendingChange;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const list = addresses.map((a) => a.trim()).filter(Boolean);
    const found: string[] = [];
    list.forEach((a, i) => {
      if (!isAddress(a)) found.push(`Guardian ${i + 1} is not a wallet address (0x and 40 hexadecimal characters).`);
      else if (sameAddress(a, wallet) || sameAddress(a, state.account)) found.push(`Guardian ${i + 1} is your own wallet or account: a guardian must be someone else.`);
      else if (list.findIndex((b) => sameAddress(a, b)) !== i) found.push(`Guardian ${i + 1} is named twice.`);
    });
    if (list.length < 2) found.push('Name at least 2 guardians.');
    if (list.length > MAX_GUARDIANS) found.push(`Name at most ${MAX_GUARDIANS} guardians.`);
    if (threshold < 2 || threshold > list.length) found.push(`The threshold must be from 2 to the number of guardians (${list.length}).`);
    if (!(delayHours >= MIN_DELAY_HOURS && delayHours <= MAX_DELAY_HOURS)) found.push(`The waiting period must be from ${MIN_DELAY_HOURS} hours to ${MAX_DELAY_HOURS / 24} days.`);
    if (found.length === 0) {
      setChecking(true);
      try {
        const keys = await Promise.all(list.map((a) => guardianKeyOf(config, a as Address)));
        keys.forEach((k, i) => {
          if (!k) found.push(`Guardian ${i + 1} (${shortAddress(list[i]!)}) has no Consentry key: ask them to sign up on the Patients page first, so a share of your backup can be sealed to them.`);
        });
      } catch (err) {
        found.push(`The guardians' keys could not be checked: ${describeError(err, { rpcUrl: config.rpcUrl, stage: 'reading' })}`);
      } finally {
        setChecking(false);
      }
    }
    setProblems(found);
    if (found.length > 0) return;
    const ok = await tx.send(hasGuardians ? 'Propose new guardians' : 'Name your guardians', {
      functionName: 'setGuardians',
      args: [list as Address[], threshold, Math.round(delayHours * 3600)],
    });
    if (ok) setEditing(false);
  };

  return (
    <section className="panel no-print" aria-labelledby="guardians-title" data-testid="guardians-panel">
      <h2 id="guardians-title">Guardians</h2>
      {hasGuardians ? (
        <div data-testid="current-guardians">
          <p>
            Any <strong>{state.threshold}</strong> of these {state.guardians.length} guardians can move your account to a new wallet, after a
            wait of {hoursInWords(state.recoveryDelay)} in which this wallet can cancel:
          </p>
          <ol className="guardian-list">
            {state.guardians.map((g) => (
              <li key={g}>
                <code>{g}</code>
              </li>
            ))}
          </ol>
        </div>
      ) : (
        <p>You have named no guardians yet. Without them, nobody can give you your account back if you lose this wallet.</p>
      )}
      {pending ? (
        <div className="notice" data-testid="pending-guardians">
          <p>
            A change is pending: {pending.guardians.length} guardians, any {pending.threshold} of them, a wait of {hoursInWords(pending.recoveryDelay)}. It
            can come into force from {chainTime(pending.effectiveAt).toLocaleString()}
            {state.now < pending.effectiveAt ? ` (in ${untilInWords(pending.effectiveAt, state.now)})` : ''}: the delay keeps someone who takes this
            wallet from swapping your guardians at once.
          </p>
          <ol className="guardian-list">
            {pending.guardians.map((g) => (
              <li key={g}>
                <code>{g}</code>
              </li>
            ))}
          </ol>
          <div className="button-row">
            <button
              type="button"
              className="button"
              disabled={applyTx.busy || state.now < pending.effectiveAt || Boolean(state.active)}
              onClick={() => void applyTx.send('Apply the guardian change', { functionName: 'applyGuardianChange', args: [state.account] })}
            >
              Put the change in force
            </button>
            <button type="button" className="button" disabled={applyTx.busy} onClick={() => void applyTx.send('Withdraw the guardian change', { functionName: 'cancelGuardianChange', args: [] })}>
              Withdraw the change
            </button>
          </div>
          <TxStatus state={applyTx.state} testId="guardian-change-status" />
        </div>
      ) : null}
      {hasGuardians && !editing ? (
        <button type="button" className="button" onClick={() => setEditing(true)}>
          Change guardians
        </button>
      ) : null}
      {showForm ? (
        <form onSubmit={submit} noValidate aria-label="Name your guardians" className="guardians-form">
          <fieldset>
            <legend>Before you choose, read and tick each point</legend>
            {risks.map((c) => (
              <label key={c.id} className="checkbox">
                <input
                  type="checkbox"
                  name={c.id}
                  checked={ticked.has(c.id)}
                  onChange={(e) =>
                    setTicked((t) => {
                      const next = new Set(t);
                      if (e.target.checked) next.add(c.id);
                      else next.delete(c.id);
                      return next;
                    })
                  }
                />{' '}
                {c.text}
              </label>
            ))}
          </fieldset>
          <fieldset>
            <legend>Guardians&apos; wallet addresses</legend>
            {addresses.map((a, i) => (
              <div className="guardian-row" key={i}>
                <label htmlFor={`${id}-g${i}`}>Guardian {i + 1}</label>
                <input
                  id={`${id}-g${i}`}
                  type="text"
                  inputMode="text"
                  autoComplete="off"
                  spellCheck={false}
                  placeholder="0x…"
                  value={a}
                  onChange={(e) => setAddresses((list) => list.map((x, j) => (j === i ? e.target.value : x)))}
                />
                {addresses.length > 2 ? (
                  <button type="button" className="link-button" onClick={() => setAddresses((list) => list.filter((_, j) => j !== i))}>
                    Remove
                  </button>
                ) : null}
              </div>
            ))}
            {addresses.length < MAX_GUARDIANS ? (
              <button type="button" className="link-button" onClick={() => setAddresses((list) => [...list, ''])}>
                Add a guardian
              </button>
            ) : null}
          </fieldset>
          <div className="guardian-row">
            <label htmlFor={`${id}-t`}>Approvals needed (threshold)</label>
            <select id={`${id}-t`} value={threshold} onChange={(e) => setThreshold(Number(e.target.value))}>
              {Array.from({ length: Math.max(1, addresses.length - 1) }, (_, i) => i + 2).map((t) => (
                <option key={t} value={t}>
                  {t} of {addresses.length}
                </option>
              ))}
            </select>
          </div>
          <div className="guardian-row">
            <label htmlFor={`${id}-d`}>Waiting period before a recovery can complete (hours)</label>
            <input id={`${id}-d`} type="number" min={MIN_DELAY_HOURS} max={MAX_DELAY_HOURS} step={1} value={delayHours} onChange={(e) => setDelayHours(Number(e.target.value))} />
          </div>
          {hasGuardians ? <p className="hint">A change comes into force 48 hours after you send it, and not while a recovery is under way.</p> : null}
          <div className="button-row">
            <button type="submit" className="button button--primary" disabled={!allTicked || tx.busy || checking}>
              {checking ? 'Checking the guardians…' : hasGuardians ? 'Propose these guardians' : 'Name these guardians'}
            </button>
            {hasGuardians ? (
              <button type="button" className="button button--quiet" onClick={() => setEditing(false)}>
                Keep the current ones
              </button>
            ) : null}
          </div>
          {!allTicked ? <p className="hint">Tick every point above to go on.</p> : null}
          {problems.length > 0 ? (
            <ul role="alert" className="error" data-testid="guardian-problems">
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
        </form>
      ) : null}
      <TxStatus state={tx.state} testId="guardians-status" />
    </section>
  );
}

function BackupPanel({ config, wallet, state, walletKey }: { config: PublicConfig; wallet: Address; state: RecoveryState; walletKey: WalletKey }) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const work = useWork();
  const [done, setDone] = useState(false);
  const backup = useQuery({ queryKey: ['recovery', 'backup', state.account.toLowerCase()], queryFn: () => fetchBackup(state.account) });
  const stale = backup.data ? backupStaleness(backup.data, state) : [];
  const status = backup.data === null ? 'none' : backup.data ? (stale.length > 0 ? 'stale' : 'current') : 'unknown';
  const make = () =>
    work.run(async () => {
      setDone(false);
      const keys = await walletKey.derive();
      if (!keys) throw new Error(walletKey.problem ?? 'Your wallet did not sign, so your key is not available');
      await backUpToGuardians({ wagmi, config, wallet, keys, state });
      await queryClient.invalidateQueries({ queryKey: ['recovery', 'backup'] });
      setDone(true);
    });
  return (
    <section className="panel no-print" aria-labelledby="backup-title" data-testid="backup-panel">
      <h2 id="backup-title">Backup of your key with your guardians</h2>
      <p>
        Your encryption secret is split in this browser so that {state.threshold ? `any ${state.threshold}` : 'enough'} of your guardians together can give
        it back to your new wallet, and fewer learn nothing. Each share is sealed to one guardian&apos;s key; the server keeps only these sealed shares, and a
        guardian releases theirs only for a recovery the chain shows as completed.
      </p>
      <p data-testid="backup-status" data-state={status} role="status">
        {backup.isPending ? 'Looking for your backup…' : null}
        {status === 'none' ? 'No backup yet.' : null}
        {backup.data && status === 'current'
          ? `Backed up on ${new Date(backup.data.createdAt * 1000).toLocaleString()} to ${backup.data.shares.length} guardians (any ${backup.data.threshold} can restore your key).`
          : null}
        {backup.data && status === 'stale'
          ? `Your backup of ${new Date(backup.data.createdAt * 1000).toLocaleString()} is out of date: ${stale.join(', and ')}. Make a new one.`
          : null}
      </p>
      {backup.error ? (
        <p role="alert" className="error">
          Your backup could not be read: {backup.error.message}
        </p>
      ) : null}
      <button type="button" className="button button--primary" disabled={work.busy || state.guardians.length === 0} onClick={() => void make()}>
        {work.busy ? 'Backing up…' : status === 'current' ? 'Make a new backup' : 'Back up my key to my guardians'}
      </button>
      {state.guardians.length === 0 ? <p className="hint">Name your guardians first.</p> : null}
      {done ? (
        <p role="status" data-testid="backup-done">
          Backed up: each guardian now holds a sealed share.
        </p>
      ) : null}
      {work.alert('backup-error')}
    </section>
  );
}

function PaperBackupPanel({ state, walletKey }: { state: RecoveryState; walletKey: WalletKey }) {
  const [sure, setSure] = useState(false);
  const [phrase, setPhrase] = useState<string | null>(null);
  const work = useWork();
  const show = () =>
    work.run(async () => {
      const keys = await walletKey.derive();
      if (!keys) throw new Error(walletKey.problem ?? 'Your wallet did not sign, so your key is not available');
      if (!state.encryptionKey || state.encryptionKey.toLowerCase() !== keys.publicKeyHex.toLowerCase()) {
        throw new Error("This wallet's key is not your account's key on chain: restore and rotate your key first, then print a new paper backup");
      }
      setPhrase(paperPhraseOf(keys.secretKey));
    });
  return (
    <section className="panel" aria-labelledby="paper-title" data-testid="paper-panel">
      <h2 id="paper-title" className="no-print">
        Paper backup
      </h2>
      <div className="no-print">
        <p>
          Instead of (or as well as) guardians, your key can be written as 24 words to print and keep offline. With them, and a recovery of your
          account to a new wallet, your records open again. Whoever holds the paper holds your key: never type the words into a website or a
          wallet, never photograph them.
        </p>
        {phrase === null ? (
          <>
            <label className="checkbox">
              <input type="checkbox" checked={sure} onChange={(e) => setSure(e.target.checked)} /> Nobody can see my screen, and I will keep the paper
              somewhere safe and offline
            </label>
            <button type="button" className="button" disabled={!sure || work.busy} onClick={() => void show()}>
              Show my paper backup
            </button>
          </>
        ) : (
          <div className="button-row">
            <button type="button" className="button button--primary" onClick={() => window.print()}>
              Print
            </button>
            <button type="button" className="button" onClick={() => (setPhrase(null), setSure(false))}>
              Hide the words
            </button>
          </div>
        )}
        {work.alert('paper-error')}
      </div>
      {phrase ? (
        <div className="paper-backup" data-testid="paper-backup">
          <h2>Consentry paper backup</h2>
          <p>
            Account <code>{state.account}</code>
            <br />
            Key fingerprint <code>{state.encryptionKey ? keyFingerprint(state.encryptionKey) : ''}</code> · printed {new Date().toLocaleDateString()}
          </p>
          <ol className="paper-words" data-testid="paper-words">
            {phrase.split(' ').map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ol>
          <p className="small">
            Keep this offline. To use it: on a new wallet, ask your guardians to recover your account, then on the Recovery page choose
            &ldquo;Restore from my paper backup&rdquo;. These words are not a wallet&apos;s recovery phrase.
          </p>
        </div>
      ) : null}
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// After a recovery: restore the old key and rotate the records to this wallet's key

function KeyRestorePanel({ config, wallet, state, walletKey }: { config: PublicConfig; wallet: Address; state: RecoveryState; walletKey: WalletKey }) {
  const wagmi = useConfig();
  const id = useId();
  const queryClient = useQueryClient();
  const [oldSecret, setOldSecret] = useState<Uint8Array | null>(null);
  const [words, setWords] = useState('');
  const [rotation, setRotation] = useState<RotationStage>({ stage: 'idle' });
  const [signedIn, setSignedIn] = useState(false);
  const restore = useWork();
  const signIn = useWork();
  const keys = walletKey.keys;
  const chainMatches = Boolean(keys && state.encryptionKey?.toLowerCase() === keys.publicKeyHex.toLowerCase());
  const mine = state.completed && sameAddress(state.completed.newController, wallet) ? state.completed : null;
  const released = useQuery({
    queryKey: ['recovery', 'released', state.account.toLowerCase(), mine?.nonce.toString()],
    enabled: Boolean(mine) && !chainMatches,
    queryFn: () => fetchReleased(state.account, mine!.nonce),
    refetchInterval: 3000,
  });
  const releasedCount = released.data?.shares.length ?? 0;
  const rotating = rotation.stage === 'keyring' || rotation.stage === 'chain' || rotation.stage === 'resealing';

  // Nothing to do for a wallet whose key is the account's, unless a rotation ran here (its result stays in view).
  if (keys && chainMatches && rotation.stage === 'idle' && !oldSecret) {
    return <ResealPanel config={config} wallet={wallet} state={state} keys={keys} />;
  }
  if (!keys) {
    return mine ? (
      <section className="panel no-print" aria-labelledby="restore-title" data-testid="restore-panel">
        <h2 id="restore-title">Get your records back</h2>
        <p>This wallet now controls your account. To open your records here, first derive this wallet&apos;s key (a free signature).</p>
        <button type="button" className="button button--primary" disabled={walletKey.busy} onClick={() => void walletKey.derive()}>
          {walletKey.busy ? 'Waiting for your wallet…' : "Derive this wallet's key"}
        </button>
      </section>
    ) : null;
  }

  const withKey = async (f: (k: EncryptionKeyPair) => Promise<Uint8Array> | Uint8Array) =>
    restore.run(async () => {
      const secret = await f(keys);
      setOldSecret(secret);
    });

  const rotate = async () => {
    setRotation({ stage: 'idle' });
    await rotateToWalletKey({ wagmi, config, wallet, keys, state, oldSecret }, setRotation);
    await queryClient.invalidateQueries({ queryKey: ['recovery'] });
    await queryClient.invalidateQueries({ queryKey: ['records'] });
  };

  return (
    <section className="panel no-print" aria-labelledby="restore-title" data-testid="restore-panel">
      <h2 id="restore-title">Get your records back</h2>
      <p>
        Your records are sealed to your account&apos;s old key (fingerprint <code>{state.encryptionKey ? keyFingerprint(state.encryptionKey) : '—'}</code>),
        not to this wallet&apos;s. Three steps: sign in again as this account, restore the old key (from your guardians or your paper backup), and
        rotate: every record&apos;s key is re-sealed to this wallet&apos;s key, and the chain names this wallet&apos;s key as your account&apos;s.
      </p>
      <h3>1. Sign in again</h3>
      {signedIn ? (
        <p role="status" data-testid="signed-in">
          Signed in as your account.
        </p>
      ) : (
        <button
          type="button"
          className="button"
          disabled={signIn.busy}
          onClick={() =>
            void signIn.run(async () => {
              await ensureSession(wagmi, wallet, config.chainId, state.account);
              setSignedIn(true);
            })
          }
        >
          {signIn.busy ? 'Waiting for your wallet…' : 'Sign in again'}
        </button>
      )}
      {signIn.alert()}
      <h3>2. Restore your old key</h3>
      {oldSecret ? (
        <p role="status" data-testid="restore-status" data-state="restored">
          Restored: the key matches your account&apos;s key on chain ({state.encryptionKey ? keyFingerprint(state.encryptionKey) : ''}).
        </p>
      ) : (
        <div className="restore-options">
          <div>
            <h4>From your guardians</h4>
            {mine ? (
              <>
                <p data-testid="released-count" role="status">
                  {releasedCount} of the {state.threshold} shares needed have been released by your guardians.
                  {releasedCount < state.threshold ? ' Ask them to open the Recovery page and release theirs.' : ''}
                </p>
                <button
                  type="button"
                  className="button button--primary"
                  disabled={restore.busy || releasedCount < state.threshold}
                  onClick={() => void withKey((k) => restoreFromGuardians(state, k))}
                >
                  Restore from my guardians&apos; shares
                </button>
              </>
            ) : (
              <p className="muted">No recovery to this wallet is recorded on chain, so guardians have nothing to release to it.</p>
            )}
          </div>
          <div>
            <h4>From your paper backup</h4>
            <label htmlFor={`${id}-words`}>Your 24 words, in order</label>
            <textarea id={`${id}-words`} rows={4} spellCheck={false} autoComplete="off" value={words} onChange={(e) => setWords(e.target.value)} />
            <button type="button" className="button" disabled={restore.busy || words.trim() === ''} onClick={() => void withKey(() => restoreFromPaper(state, words))}>
              Restore from my paper backup
            </button>
          </div>
        </div>
      )}
      {restore.alert('restore-error')}
      <h3>3. Rotate to this wallet&apos;s key</h3>
      <button type="button" className="button button--primary" disabled={!oldSecret || rotating} onClick={() => void rotate()}>
        {rotating ? 'Rotating…' : 'Rotate my key and re-seal my records'}
      </button>
      <RotationStatus rotation={rotation} />
    </section>
  );
}

/** For a wallet whose key is the account's: finish an interrupted rotation (earlier keys from the keyring). */
function ResealPanel({ config, wallet, state, keys }: { config: PublicConfig; wallet: Address; state: RecoveryState; keys: EncryptionKeyPair }) {
  const wagmi = useConfig();
  const [rotation, setRotation] = useState<RotationStage>({ stage: 'idle' });
  const rotating = rotation.stage === 'keyring' || rotation.stage === 'chain' || rotation.stage === 'resealing';
  return (
    <section className="panel no-print" aria-labelledby="rotate-title" data-testid="rotate-panel">
      <h2 id="rotate-title">Rotate my key</h2>
      <p>
        Your records are sealed to this wallet&apos;s key. The key is derived from your wallet, so a new key means a new wallet: if you think your
        key has leaked, set up a new wallet and have your guardians recover your account to it (you can cancel nothing you started yourself, so
        tell them it is you); the new wallet then rotates every record to its own key. A rotation that was interrupted is finished here.
      </p>
      <button
        type="button"
        className="button"
        disabled={rotating}
        onClick={() => void rotateToWalletKey({ wagmi, config, wallet, keys, state, oldSecret: null }, setRotation)}
      >
        Re-seal records still sealed to an earlier key
      </button>
      <RotationStatus rotation={rotation} />
    </section>
  );
}

function RotationStatus({ rotation }: { rotation: RotationStage }) {
  if (rotation.stage === 'idle') return null;
  return (
    <div data-testid="rotation" data-stage={rotation.stage}>
      <p role="status" aria-live="polite" data-testid="rotation-status">
        {rotation.stage === 'keyring' ? 'Keeping your old key, sealed to the new one, for what was derived from it…' : null}
        {rotation.stage === 'chain'
          ? rotation.tx.phase === 'pending'
            ? 'Naming the new key on chain: transaction pending…'
            : rotation.tx.phase === 'confirmed'
              ? `Naming the new key on chain: confirmed in block ${rotation.tx.blockNumber.toString()}.`
              : 'Naming the new key on chain: waiting for your wallet…'
          : null}
        {rotation.stage === 'resealing' ? `Re-sealing your records: ${rotation.progress.done} of ${rotation.progress.total}` : null}
        {rotation.stage === 'done'
          ? `Done: all ${rotation.result.total} record versions open with this wallet's key (${rotation.result.resealed} re-sealed now, ${rotation.result.alreadyRotated} already were)${rotation.result.unopenable.length > 0 ? `; ${rotation.result.unopenable.length} could not be opened with any of your keys and were left as they were` : ''}.`
          : null}
        {rotation.stage === 'failed' ? 'The rotation stopped.' : null}
      </p>
      {rotation.stage === 'resealing' && rotation.progress.total > 0 ? (
        <progress max={rotation.progress.total} value={rotation.progress.done} aria-label="Re-sealing progress" data-testid="rotation-progress" />
      ) : null}
      {rotation.stage === 'done' ? (
        <p>
          <a href="/records">Open your records</a>
        </p>
      ) : null}
      {rotation.stage === 'failed' ? (
        <p role="alert" className="error" data-testid="rotation-error">
          {rotation.problem} Run it again to go on: what is done is kept.
        </p>
      ) : null}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// A new wallet: "I lost my wallet"

function LostWalletPanel({ config, wallet, walletKey, request }: { config: PublicConfig; wallet: Address; walletKey: WalletKey; request: RecoveryRequest }) {
  const id = useId();
  const [, setParams] = useSearchParams();
  const own = !request.newWallet || sameAddress(request.newWallet, wallet);
  const [input, setInput] = useState(own ? (request.account ?? '') : '');
  const [account, setAccount] = useState<Address | null>(own ? request.account : null);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const a = input.trim();
    if (!isAddress(a)) return setProblem('Give your account address: the address of the wallet you lost (0x and 40 hexadecimal characters).');
    if (sameAddress(a, wallet)) return setProblem('That is this wallet. Give the address of the wallet you lost.');
    setProblem(null);
    setAccount(a as Address);
    setParams({ account: a }, { replace: true, preventScrollReset: true });
  };
  return (
    <section className="panel no-print" aria-labelledby="lost-title" data-testid="lost-wallet-panel">
      <h2 id="lost-title">I lost my wallet</h2>
      <p>
        Use this new wallet to get your account back. Your guardians move your account to it; after the waiting period you complete the recovery
        here, then restore your key and re-seal your records to this wallet.
      </p>
      <form onSubmit={submit} className="lost-form" noValidate>
        <label htmlFor={`${id}-account`}>Your account address (the wallet you lost)</label>
        <input id={`${id}-account`} type="text" spellCheck={false} autoComplete="off" placeholder="0x…" value={input} onChange={(e) => setInput(e.target.value)} />
        <button type="submit" className="button">
          Continue
        </button>
      </form>
      {problem ? (
        <p role="alert" className="error">
          {problem}
        </p>
      ) : null}
      {account ? <LostWalletProgress key={account} config={config} wallet={wallet} walletKey={walletKey} account={account} /> : null}
    </section>
  );
}

function LostWalletProgress({ config, wallet, walletKey, account }: { config: PublicConfig; wallet: Address; walletKey: WalletKey; account: Address }) {
  const state = useRecoveryState(config, account);
  const tx = useRegistryTx(config, wallet);
  const [copied, setCopied] = useState(false);
  const s = state.data;
  if (state.error) {
    return (
      <p role="alert" className="error">
        {describeError(state.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
      </p>
    );
  }
  if (!s) return <p role="status">Reading the account on chain…</p>;
  if (!s.registered) {
    return (
      <p role="alert" className="error" data-testid="lost-problem">
        {account} is not a Consentry account. Check the address: it is the wallet you signed up with.
      </p>
    );
  }
  if (s.guardians.length === 0) {
    return (
      <p role="alert" className="error" data-testid="lost-problem">
        This account named no guardians, so nobody can move it to a new wallet.
      </p>
    );
  }
  const keys = walletKey.keys;
  const link = keys && typeof window !== 'undefined' ? recoveryLink(window.location.origin, { account, newWallet: wallet, recoveryKey: keys.publicKeyHex }) : null;
  const r = s.active;
  const toMe = Boolean(r && sameAddress(r.newController, wallet));
  const completedToMe = Boolean(s.completed && sameAddress(s.completed.newController, wallet));
  const quorum = Boolean(r && r.approvalCount >= s.threshold && r.readyAt > 0);
  const ready = Boolean(quorum && r && s.now >= r.readyAt);
  const blocker = !r
    ? 'No guardian has started a recovery of this account yet: give them the link above.'
    : !toMe
      ? `The recovery under way moves the account to another wallet (${shortAddress(r.newController)}), not to this one.`
      : !quorum
        ? `${r.approvalCount} of the ${s.threshold} guardian approvals needed are in: it cannot be completed until ${s.threshold - r.approvalCount} more approve.`
        : !ready
          ? `Enough guardians approved. The waiting period ends ${chainTime(r.readyAt).toLocaleString()} (in ${untilInWords(r.readyAt, s.now)}); until then your old wallet can cancel.`
          : null;

  return (
    <div className="lost-progress" data-testid="lost-progress">
      <h3>1. Your new wallet and its recovery key</h3>
      <dl className="facts">
        <dt>New wallet</dt>
        <dd>
          <code data-testid="new-wallet">{wallet}</code>
        </dd>
        <dt>Recovery key</dt>
        <dd>
          {keys ? (
            <code data-testid="recovery-key" className="wrap">
              {keys.publicKeyHex}
            </code>
          ) : (
            <button type="button" className="button" disabled={walletKey.busy} onClick={() => void walletKey.derive()}>
              {walletKey.busy ? 'Waiting for your wallet…' : 'Make my recovery key (a free signature)'}
            </button>
          )}
        </dd>
      </dl>
      {walletKey.problem ? (
        <p role="alert" className="error">
          {walletKey.problem}
        </p>
      ) : null}
      {link ? (
        <div className="recovery-link">
          <p>
            Give this link to your guardians ({s.guardians.length}; any {s.threshold} must approve). Tell each of them yourself, in person or by
            phone, that you asked for it: they should not trust a message alone.
          </p>
          <input type="text" readOnly value={link} aria-label="Link for your guardians" data-testid="recovery-link" onFocus={(e) => e.target.select()} />
          <button
            type="button"
            className="link-button"
            onClick={() =>
              void navigator.clipboard?.writeText(link).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? 'Copied' : 'Copy the link'}
          </button>
        </div>
      ) : null}
      <h3>2. Your guardians approve</h3>
      {completedToMe && !r ? (
        <p role="status" data-testid="recovery-progress" data-state="completed">
          Recovery complete: this wallet now controls the account. Sign in again below to restore your key.
        </p>
      ) : (
        <>
          {r && toMe ? (
            <ul className="guardian-list" data-testid="approvals">
              {s.guardians.map((g) => (
                <li key={g}>
                  <code>{shortAddress(g)}</code> {r.approvedBy.some((a) => sameAddress(a, g)) ? 'approved' : 'has not approved'}
                </li>
              ))}
            </ul>
          ) : null}
          <p role="status" data-testid="recovery-progress" data-state={ready ? 'ready' : r ? (quorum ? 'waiting' : 'approving') : 'none'}>
            {blocker ?? 'Ready: the waiting period is over and no one cancelled. Complete the recovery.'}
          </p>
          <h3>3. Complete the recovery</h3>
          <button
            type="button"
            className="button button--primary"
            disabled={!ready || tx.busy}
            onClick={() => void tx.send('Complete the recovery', { functionName: 'completeRecovery', args: [account] })}
          >
            Complete the recovery
          </button>
          <TxStatus state={tx.state} testId="complete-status" />
        </>
      )}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Guardians: start, approve, release

function GuardianPanel({ config, wallet, walletKey, request }: { config: PublicConfig; wallet: Address; walletKey: WalletKey; request: RecoveryRequest | null }) {
  const id = useId();
  const guarded = useQuery({ queryKey: ['recovery', 'guarded', wallet.toLowerCase()], queryFn: () => accountsGuardedBy(config, wallet), refetchInterval: 10_000 });
  const [input, setInput] = useState(request?.account ?? '');
  const [account, setAccount] = useState<Address | null>(request?.account ?? null);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const a = input.trim();
    if (!isAddress(a)) return setProblem("Give the account's address (0x and 40 hexadecimal characters).");
    setProblem(null);
    setAccount(a as Address);
  };
  return (
    <section className="panel no-print" aria-labelledby="guardian-title" data-testid="guardian-panel">
      <h2 id="guardian-title">As a guardian</h2>
      <p>
        When someone who named you as a guardian loses their wallet, you help move their account to their new wallet, and once the chain shows
        the recovery completed, you release your share of their key backup to it. Make sure it really is them asking: talk to them.
      </p>
      {guarded.data && guarded.data.length > 0 ? (
        <div>
          <p>Accounts you guard:</p>
          <ul className="guardian-list" data-testid="guarded-accounts">
            {guarded.data.map((a) => (
              <li key={a}>
                <code>{a}</code>{' '}
                <button type="button" className="link-button" onClick={() => (setInput(a), setAccount(a))}>
                  Open
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : guarded.data ? (
        <p className="muted">No account names this wallet as a guardian.</p>
      ) : null}
      <form onSubmit={submit} className="lost-form" noValidate>
        <label htmlFor={`${id}-account`}>Account address</label>
        <input id={`${id}-account`} type="text" spellCheck={false} autoComplete="off" placeholder="0x…" value={input} onChange={(e) => setInput(e.target.value)} />
        <button type="submit" className="button">
          Show
        </button>
      </form>
      {problem ? (
        <p role="alert" className="error">
          {problem}
        </p>
      ) : null}
      {account ? <GuardedAccount key={account} config={config} wallet={wallet} walletKey={walletKey} account={account} request={request} /> : null}
    </section>
  );
}

function GuardedAccount({
  config,
  wallet,
  walletKey,
  account,
  request,
}: {
  config: PublicConfig;
  wallet: Address;
  walletKey: WalletKey;
  account: Address;
  request: RecoveryRequest | null;
}) {
  const wagmi = useConfig();
  const id = useId();
  const state = useRecoveryState(config, account);
  const tx = useRegistryTx(config, wallet);
  const release = useWork();
  const fromLink = request && sameAddress(request.account, account) ? request : null;
  const [newWallet, setNewWallet] = useState<string>(fromLink?.newWallet ?? '');
  const [recoveryKey, setRecoveryKey] = useState<string>(fromLink?.recoveryKey ?? '');
  const [confirmed, setConfirmed] = useState(false);
  const s = state.data;
  const completedNonce = s?.completed?.nonce;
  const released = useQuery({
    queryKey: ['recovery', 'released', account.toLowerCase(), completedNonce?.toString()],
    enabled: completedNonce !== undefined,
    queryFn: () => fetchReleased(account, completedNonce!),
  });
  if (state.error) {
    return (
      <p role="alert" className="error">
        {describeError(state.error, { rpcUrl: config.rpcUrl, stage: 'reading' })}
      </p>
    );
  }
  if (!s) return <p role="status">Reading the account on chain…</p>;
  const index = s.guardians.findIndex((g) => sameAddress(g, wallet));
  if (index < 0) {
    return (
      <p role="alert" className="error" data-testid="not-guardian">
        This wallet is not a guardian of {shortAddress(account)}{s.registered ? '' : ' (it is not a Consentry account)'}, so it cannot start, approve or
        release anything for it.
      </p>
    );
  }
  const r = s.active;
  const approvedByMe = Boolean(r?.approvedBy.some((a) => sameAddress(a, wallet)));
  const iReleased = Boolean(released.data?.shares.some((x) => sameAddress(x.guardian, wallet)));
  const mismatch = r && fromLink?.newWallet && !sameAddress(r.newController, fromLink.newWallet);
  const validStart = isAddress(newWallet.trim()) && /^0x[0-9a-fA-F]{64}$/.test(recoveryKey.trim());

  const doRelease = () =>
    release.run(async () => {
      const keys = await walletKey.derive();
      if (!keys) throw new Error(walletKey.problem ?? 'Your wallet did not sign, so your key is not available');
      await releaseMyShare({ wagmi, config, guardian: wallet, keys, state: s });
      await released.refetch();
    });

  return (
    <div className="guarded-account" data-testid="guarded-account">
      <h3>
        Account <code>{shortAddress(account)}</code>
      </h3>
      <p className="muted">
        You are guardian {index + 1} of {s.guardians.length}; any {s.threshold} together can recover it, after a wait of {hoursInWords(s.recoveryDelay)}.
      </p>
      {r ? (
        <div data-testid="active-recovery">
          <p role="status">
            Recovery #{r.nonce.toString()} is under way: it moves the account to <code title={r.newController}>{shortAddress(r.newController)}</code>.{' '}
            {r.approvalCount} of {s.threshold} approvals{approvedByMe ? ', yours among them' : ''}.
            {r.readyAt > 0 ? ` It can be completed from ${chainTime(r.readyAt).toLocaleString()}.` : ''}
          </p>
          {mismatch ? (
            <p role="alert" className="error">
              The recovery under way moves the account to another wallet than the one in your link ({shortAddress(fromLink!.newWallet!)}). Do not approve
              it unless the account holder confirms that wallet.
            </p>
          ) : null}
          {!approvedByMe ? (
            <>
              <label className="checkbox">
                <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} /> I spoke to the account holder and they
                asked for this recovery to <code>{shortAddress(r.newController)}</code>
              </label>
              <button
                type="button"
                className="button button--primary"
                disabled={!confirmed || tx.busy}
                onClick={() => void tx.send('Approve the recovery', { functionName: 'approveRecovery', args: [account, r.nonce] })}
              >
                Approve
              </button>
            </>
          ) : null}
        </div>
      ) : (
        <form
          className="start-form"
          aria-label="Start a recovery"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (!validStart || !confirmed) return;
            void tx.send('Start the recovery', { functionName: 'startRecovery', args: [account, newWallet.trim() as Address, recoveryKey.trim() as Hex] });
          }}
        >
          <p>No recovery of this account is under way. Start one when its holder asks you to, with the new wallet and recovery key from their link.</p>
          <label htmlFor={`${id}-nw`}>Their new wallet</label>
          <input id={`${id}-nw`} type="text" spellCheck={false} autoComplete="off" value={newWallet} onChange={(e) => setNewWallet(e.target.value)} />
          <label htmlFor={`${id}-rk`}>Their recovery key</label>
          <input id={`${id}-rk`} type="text" spellCheck={false} autoComplete="off" value={recoveryKey} onChange={(e) => setRecoveryKey(e.target.value)} />
          <label className="checkbox">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} /> I spoke to the account holder and they asked
            for this recovery to this wallet
          </label>
          <button type="submit" className="button button--primary" disabled={!validStart || !confirmed || tx.busy}>
            Start the recovery
          </button>
        </form>
      )}
      <TxStatus state={tx.state} testId="guardian-tx-status" />
      {s.completed ? (
        <div data-testid="completed-recovery">
          <p>
            Recovery #{s.completed.nonce.toString()} completed on {chainTime(s.completed.completedAt).toLocaleString()}: the account moved to{' '}
            <code title={s.completed.newController}>{shortAddress(s.completed.newController)}</code>.
          </p>
          {iReleased ? (
            <p role="status" data-testid="release-status" data-state="released">
              You released your share to it. Thank you.
            </p>
          ) : (
            <>
              <p>Release your share of the key backup to the new wallet: it is sealed to the recovery key the guardians approved, so only it can open it.</p>
              <button type="button" className="button button--primary" disabled={release.busy} onClick={() => void doRelease()}>
                {release.busy ? 'Releasing…' : 'Release my share'}
              </button>
            </>
          )}
          {release.alert('release-error')}
        </div>
      ) : null}
    </div>
  );
}

export function ErrorBoundary(): ReactNode {
  return (
    <div className="page">
      <h1>Key loss and recovery</h1>
      <p role="alert" className="error">
        This page could not be shown. Reload it; if this keeps happening, check that Consentry is running.
      </p>
    </div>
  );
}
