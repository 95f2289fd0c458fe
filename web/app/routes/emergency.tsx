import type { MetaFunction } from '@remix-run/node';
import { useRouteLoaderData } from '@remix-run/react';
import { useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { getAddress, isAddress, type Address } from 'viem';
import { useAccount, useConfig } from 'wagmi';
import { breakGlass, categoriesOf, EMERGENCY_CATEGORIES, readOrganization } from '@consentry/sdk/access/actions';
import { ClinicalRecords, IDLE, runTx, TxMessage, categoryLabel, type TxState } from '../components/ClinicalRecords.tsx';
import { ConnectPanel } from '../components/ConnectWallet.tsx';
import { actionContext, chainClient } from '../lib/clinical.client.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import type { loader as rootLoader } from '../root.tsx';

export const meta: MetaFunction = () => [{ title: 'Emergency access · Consentry' }];

const HOUR = 3600;
const when = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

export default function EmergencyPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const { address, status } = useAccount();
  if (!config) return null;
  return (
    <div className="page">
      <h1>Emergency access</h1>
      <p className="lead">
        An accredited emergency provider may open a patient's emergency profile ({EMERGENCY_CATEGORIES.map(categoryLabel).join(', ')}) for a short
        window without asking first. It is logged on chain and the patient is notified.
      </p>
      {status === 'connected' && address ? (
        <EmergencyWorkspace key={address} config={config} address={address} />
      ) : (
        <section aria-labelledby="em-connect" className="panel">
          <h2 id="em-connect">Connect your organisation's wallet</h2>
          {status === 'reconnecting' || status === 'connecting' ? <p role="status">Reconnecting your wallet…</p> : <ConnectPanel config={config} />}
        </section>
      )}
    </div>
  );
}

function EmergencyWorkspace({ config, address }: { config: PublicConfig; address: Address }) {
  const wagmi = useConfig();
  const ids = { patient: useId(), reason: useId(), hours: useId() };
  const [patient, setPatient] = useState('');
  const [reason, setReason] = useState('');
  const [hours, setHours] = useState('4');
  const [tx, setTx] = useState<TxState>(IDLE);
  const [opened, setOpened] = useState<{ patient: Address; expiresAt: bigint; categories: string[] } | null>(null);
  const org = useQuery({
    queryKey: ['organization', address.toLowerCase()],
    enabled: Boolean(config.contracts?.AccessGrants && config.contracts.OrganizationRegistry),
    queryFn: async () => {
      const client = chainClient(wagmi, config.chainId);
      const [o, block] = await Promise.all([
        readOrganization(client, { AccessGrants: config.contracts!.AccessGrants!, OrganizationRegistry: config.contracts!.OrganizationRegistry! }, address),
        client.getBlock({ blockTag: 'latest' }),
      ]);
      return { ...o, now: block.timestamp };
    },
  });
  const eligible = org.data?.kind === 'emergency-provider' && org.data.accredited;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = patient.trim();
    if (!isAddress(p, { strict: false })) return setTx({ phase: 'failed', message: 'The patient address must be 0x followed by 40 hex digits' });
    if (!reason.trim()) return setTx({ phase: 'failed', message: 'Break-glass needs a reason' });
    const h = Number(hours);
    if (!Number.isFinite(h) || h <= 0 || h > 12) return setTx({ phase: 'failed', message: 'The window must be from a few minutes up to 12 hours' });
    setOpened(null);
    await runTx(
      setTx,
      'Opening the break-glass window…',
      async () => {
        const r = await breakGlass(await actionContext(wagmi, config.chainId, config.contracts), { patient: getAddress(p), reason, durationSeconds: Math.round(h * HOUR) });
        const ev = r.events.find((x) => x.eventName === 'BreakGlassOpened');
        const expiresAt = (ev?.args.expiresAt as bigint | undefined) ?? 0n;
        const categories = categoriesOf(Number(ev?.args.categories ?? 0));
        setOpened({ patient: getAddress(p), expiresAt, categories });
        return `Break-glass open until ${when(expiresAt)} (chain time) for ${categories.map(categoryLabel).join(', ')}. The patient is notified. Only the reason's hash is on chain.`;
      },
      config.rpcUrl,
    );
  };

  return (
    <>
      <section className="panel" aria-labelledby="bg-title">
        <h2 id="bg-title">Break glass</h2>
        {org.data && !eligible ? (
          <p className="notice" data-testid="bg-eligibility">
            {org.data.kind !== 'emergency-provider'
              ? 'This account is not registered as an emergency provider; only an accredited emergency provider may break glass (register on the Organisations page).'
              : 'Your emergency-provider organisation is not accredited now; an accreditor must accredit it first.'}
          </p>
        ) : null}
        <form className="clinical-form" onSubmit={submit} noValidate>
          <label htmlFor={ids.patient}>Patient address</label>
          <input id={ids.patient} value={patient} onChange={(e) => setPatient(e.target.value)} placeholder="0x…" autoComplete="off" spellCheck={false} />
          <label htmlFor={ids.reason}>Reason</label>
          <textarea id={ids.reason} value={reason} onChange={(e) => setReason(e.target.value)} required rows={3} maxLength={2000} aria-describedby={`${ids.reason}-hint`} />
          <p id={`${ids.reason}-hint`} className="hint">
            Required. Only its hash goes on chain; keep the reason itself in your records for audit.
          </p>
          <label htmlFor={ids.hours}>Window (hours)</label>
          <input id={ids.hours} type="number" min={0.25} max={12} step={0.25} value={hours} onChange={(e) => setHours(e.target.value)} />
          <button type="submit" className="button button--primary danger" disabled={tx.phase === 'busy'}>
            Break glass
          </button>
        </form>
        <TxMessage state={tx} testId="break-glass-result" />
      </section>
      {opened ? (
        <section className="panel" aria-labelledby="bg-records">
          <h2 id="bg-records">Emergency records</h2>
          <p>
            Patient <code>{opened.patient}</code>, window open until {when(opened.expiresAt)}.
          </p>
          <ClinicalRecords config={config} account={address} patient={opened.patient} only={EMERGENCY_CATEGORIES} />
        </section>
      ) : null}
    </>
  );
}
