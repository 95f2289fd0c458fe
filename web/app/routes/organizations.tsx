import type { MetaFunction } from '@remix-run/node';
import { useRouteLoaderData } from '@remix-run/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import type { Address } from 'viem';
import { useAccount, useConfig } from 'wagmi';
import { accreditOrganization, kindCode, ORGANIZATION_KINDS, readOrganization, registerOrganization, type OrganizationKind } from '@consentry/sdk/access/actions';
import { IDLE, runTx, TxMessage, type TxState } from '../components/ClinicalRecords.tsx';
import { ConnectPanel, shortAddress } from '../components/ConnectWallet.tsx';
import { actionContext, chainClient, fetchOrganizations, isAccreditor } from '../lib/clinical.client.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import type { loader as rootLoader } from '../root.tsx';

export const meta: MetaFunction = () => [{ title: 'Organisations · Consentry' }];

const YEAR = 365 * 86_400;
const day = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().slice(0, 10);
export const kindLabel = (code: string) => ORGANIZATION_KINDS.find((k) => k.code === code)?.label ?? 'Unknown kind';

/** An organisation's status in words, judged by chain time. */
export function organizationStatus(o: { registered: boolean; accredited: boolean; accreditedUntil: bigint }, now: bigint): string {
  if (!o.registered) return 'Not registered';
  if (o.accredited) return `Accredited until ${day(o.accreditedUntil)}`;
  if (o.accreditedUntil === 0n) return 'Pending accreditation';
  if (o.accreditedUntil <= now) return `Accreditation expired on ${day(o.accreditedUntil)}`;
  return 'Suspended';
}

export default function OrganizationsPage() {
  const config = useRouteLoaderData<typeof rootLoader>('root');
  const { address, status } = useAccount();
  if (!config) return null;
  return (
    <div className="page">
      <h1>Organisations</h1>
      <p className="lead">
        Clinics, emergency providers, researchers and insurers register here and are accredited before they may ask patients for records.
      </p>
      {status === 'connected' && address ? (
        <>
          <MyOrganization key={address} config={config} address={address} />
          <AccreditorPanel key={`acc-${address}`} config={config} address={address} />
        </>
      ) : (
        <section aria-labelledby="org-connect" className="panel">
          <h2 id="org-connect">Connect your organisation's wallet</h2>
          {status === 'reconnecting' || status === 'connecting' ? <p role="status">Reconnecting your wallet…</p> : <ConnectPanel config={config} />}
        </section>
      )}
    </div>
  );
}

function useOrganization(config: PublicConfig, address: Address) {
  const wagmi = useConfig();
  return useQuery({
    queryKey: ['organization', address.toLowerCase()],
    enabled: Boolean(config.contracts?.OrganizationRegistry && config.contracts.AccessGrants),
    queryFn: async () => {
      const client = chainClient(wagmi, config.chainId);
      const contracts = { AccessGrants: config.contracts!.AccessGrants!, OrganizationRegistry: config.contracts!.OrganizationRegistry! };
      const [org, block] = await Promise.all([readOrganization(client, contracts, address), client.getBlock({ blockTag: 'latest' })]);
      return { ...org, now: block.timestamp };
    },
  });
}

function MyOrganization({ config, address }: { config: PublicConfig; address: Address }) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const org = useOrganization(config, address);
  const kindId = useId();
  const nameId = useId();
  const [kind, setKind] = useState<OrganizationKind>('provider');
  const [name, setName] = useState('');
  const [tx, setTx] = useState<TxState>(IDLE);

  const register = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setTx({ phase: 'failed', message: 'Enter the organisation’s legal name' });
    const ok = await runTx(
      setTx,
      'Registering: sending the transaction…',
      async () => {
        const r = await registerOrganization(await actionContext(wagmi, config.chainId, config.contracts), { kind, name });
        return `Registered in block ${r.blockNumber}. Your organisation is pending until an accreditor accredits it.`;
      },
      config.rpcUrl,
    );
    if (ok) await queryClient.invalidateQueries({ queryKey: ['organization', address.toLowerCase()] });
  };

  return (
    <section className="panel" aria-labelledby="my-org">
      <h2 id="my-org">Your organisation</h2>
      <p>
        Account <code>{address}</code>
      </p>
      {!config.contracts?.OrganizationRegistry ? <p role="alert" className="error">This deployment has no OrganizationRegistry contract.</p> : null}
      {org.isPending && config.contracts?.OrganizationRegistry ? <p role="status">Reading the registry…</p> : null}
      {org.error ? (
        <p role="alert" className="error">
          {org.error.message}
        </p>
      ) : null}
      {org.data ? (
        <dl className="facts">
          <dt>Status</dt>
          <dd data-testid="org-status">{organizationStatus(org.data, org.data.now)}</dd>
          {org.data.registered ? (
            <>
              <dt>Kind</dt>
              <dd>{kindLabel(org.data.kind)}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {org.data && !org.data.registered ? (
        <form className="clinical-form" onSubmit={register}>
          <label htmlFor={kindId}>Organisation kind</label>
          <select id={kindId} value={kind} onChange={(e) => setKind(e.target.value as OrganizationKind)}>
            {ORGANIZATION_KINDS.map((k) => (
              <option key={k.code} value={k.code}>
                {k.label}
              </option>
            ))}
          </select>
          <label htmlFor={nameId}>Legal name</label>
          <input id={nameId} value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} aria-describedby={`${nameId}-hint`} />
          <p id={`${nameId}-hint`} className="hint">
            Only a hash of the name goes on chain; the name itself stays with you and the accreditor. The kind is fixed once registered.
          </p>
          <button type="submit" className="button button--primary" disabled={tx.phase === 'busy'}>
            Register organisation
          </button>
        </form>
      ) : null}
      <TxMessage state={tx} testId="register-result" />
    </section>
  );
}

function AccreditorPanel({ config, address }: { config: PublicConfig; address: Address }) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const registry = config.contracts?.OrganizationRegistry;
  const role = useQuery({
    queryKey: ['accreditor', address.toLowerCase()],
    enabled: Boolean(registry),
    queryFn: () => isAccreditor(chainClient(wagmi, config.chainId), registry!, address),
  });
  const orgs = useQuery({ queryKey: ['organizations'], enabled: role.data === true, queryFn: () => fetchOrganizations(), refetchInterval: 3000 });
  const [tx, setTx] = useState<TxState>(IDLE);
  if (role.data !== true) return null;

  const accredit = async (organization: Address) => {
    const ok = await runTx(
      setTx,
      `Accrediting ${shortAddress(organization)}: sending the transaction…`,
      async () => {
        const ctx = await actionContext(wagmi, config.chainId, config.contracts);
        const now = (await ctx.client.getBlock({ blockTag: 'latest' })).timestamp;
        const r = await accreditOrganization(ctx, { organization, until: Number(now) + YEAR });
        return `Accredited ${organization} for one year (block ${r.blockNumber}).`;
      },
      config.rpcUrl,
    );
    if (ok) {
      await queryClient.invalidateQueries({ queryKey: ['organizations'] });
      await queryClient.invalidateQueries({ queryKey: ['organization'] });
    }
  };

  return (
    <section className="panel" aria-labelledby="accreditor">
      <h2 id="accreditor">Accreditor</h2>
      <p>This account holds the accreditor role: it may accredit organisations for a year, which lets them ask patients for access.</p>
      {orgs.isPending ? <p role="status">Loading registered organisations…</p> : null}
      {orgs.error ? (
        <p role="alert" className="error">
          {orgs.error.message}
        </p>
      ) : null}
      {orgs.data && orgs.data.length === 0 ? <p>No organisation has registered yet.</p> : null}
      <ul className="org-list" aria-label="Registered organisations">
        {orgs.data?.map((o) => {
          const now = BigInt(Math.floor(Date.now() / 1000));
          const status = o.accredited && o.accreditedUntil > now ? `Accredited until ${day(o.accreditedUntil)}` : o.accreditedUntil === 0n ? 'Pending accreditation' : o.accredited ? `Accreditation expired on ${day(o.accreditedUntil)}` : 'Suspended';
          return (
            <li key={o.id} className="org-row" data-testid="org-row" data-address={o.id}>
              <code className="org-address" id={`org-${o.id}`}>{o.id}</code>
              <span>{kindLabel(kindCode(o.kind))}</span>
              <span className="muted">{status}</span>
              <button type="button" className="button" disabled={tx.phase === 'busy'} onClick={() => accredit(o.id as Address)} aria-describedby={`org-${o.id}`}>
                Accredit (1 year)
              </button>
            </li>
          );
        })}
      </ul>
      <TxMessage state={tx} testId="accredit-result" />
    </section>
  );
}
