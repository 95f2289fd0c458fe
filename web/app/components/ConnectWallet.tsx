import { useEffect, useId, useRef, useState } from 'react';
import { useAccount, useConnect, useConnectors, useDisconnect } from 'wagmi';
import { DEV_ACCOUNT_CONNECTOR_TYPE } from '../lib/dev-accounts.ts';
import { describeError } from '../lib/errors.ts';
import { forgetKeys } from '../lib/keyring.ts';
import type { PublicConfig } from '../lib/public-config.ts';

export const shortAddress = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;

/** The ways to connect: browser wallets, and on the local chain the development accounts. */
export function ConnectPanel({ config, onConnected }: { config: PublicConfig; onConnected?: () => void }) {
  const connectors = useConnectors();
  const { connect, isPending, error, reset } = useConnect();
  const devSelectId = useId();
  const injected = connectors.filter((c) => c.type === 'injected');
  const dev = connectors.filter((c) => c.type === DEV_ACCOUNT_CONNECTOR_TYPE);
  const [devId, setDevId] = useState(dev[0]?.id ?? '');
  const addressOf = (connectorId: string) =>
    config.devAccounts.find((a) => `dev-account-${a.index}` === connectorId)?.address;

  const connectWith = (connectorId: string) => {
    const connector = connectors.find((c) => c.id === connectorId);
    if (!connector) return;
    reset();
    connect({ connector, chainId: config.chainId }, { onSuccess: () => onConnected?.() });
  };

  return (
    <div className="connect-panel">
      <section aria-labelledby={`${devSelectId}-injected`}>
        <h3 id={`${devSelectId}-injected`}>Browser wallet</h3>
        <div className="button-row">
          {injected.map((c) => (
            <button key={c.uid} type="button" className="button" disabled={isPending} onClick={() => connectWith(c.id)}>
              {c.name === 'Injected' ? 'Connect browser wallet' : `Connect ${c.name}`}
            </button>
          ))}
        </div>
      </section>
      {dev.length > 0 ? (
        <section aria-labelledby={`${devSelectId}-dev`}>
          <h3 id={`${devSelectId}-dev`}>Development account</h3>
          <p className="hint">Local chain only: a test account that signs in this page, no extension needed.</p>
          <form
            className="dev-form"
            onSubmit={(e) => {
              e.preventDefault();
              connectWith(devId);
            }}
          >
            <label htmlFor={devSelectId}>Account</label>
            <select id={devSelectId} value={devId} onChange={(e) => setDevId(e.target.value)}>
              {dev.map((c) => {
                const address = addressOf(c.id);
                return (
                  <option key={c.uid} value={c.id}>
                    {c.name}
                    {address ? ` · ${shortAddress(address)}` : ''}
                  </option>
                );
              })}
            </select>
            <button type="submit" className="button button--primary" disabled={isPending || !devId}>
              Connect
            </button>
          </form>
        </section>
      ) : null}
      {error ? (
        <p className="error" role="alert">
          {describeError(error, { rpcUrl: config.rpcUrl, stage: 'connecting' })}
        </p>
      ) : null}
    </div>
  );
}

/** The header's wallet control: the connected account, or a button that opens the connect panel. */
export function WalletMenu({ config }: { config: PublicConfig }) {
  const { address, status, connector } = useAccount();
  const { disconnect } = useDisconnect();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        buttonRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);

  if (status === 'connected' && address) {
    return (
      <div className="wallet" data-testid="wallet-connected">
        <span className="wallet__account" title={address}>
          <span className="visually-hidden">Connected account </span>
          {shortAddress(address)}
          {connector ? <span className="wallet__via"> · {connector.name}</span> : null}
        </span>
        <button
          type="button"
          className="button button--quiet"
          onClick={() => {
            forgetKeys();
            disconnect();
          }}
        >
          Disconnect
        </button>
      </div>
    );
  }

  return (
    <div className="wallet">
      <button
        ref={buttonRef}
        type="button"
        className="button button--primary"
        aria-expanded={open}
        aria-controls={panelId}
        disabled={status === 'reconnecting' || status === 'connecting'}
        onClick={() => setOpen((o) => !o)}
      >
        {status === 'reconnecting' || status === 'connecting' ? 'Connecting…' : 'Connect wallet'}
      </button>
      {open ? (
        <div id={panelId} className="wallet__popover">
          <ConnectPanel config={config} onConnected={() => setOpen(false)} />
        </div>
      ) : null}
    </div>
  );
}
