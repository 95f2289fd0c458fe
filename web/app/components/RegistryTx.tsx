import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Address } from 'viem';
import { useConfig } from 'wagmi';
import type { PublicConfig } from '../lib/public-config.ts';
import { sendRegistryTx, type RegistryCall, type TxProgress } from '../lib/recovery.client.ts';
import { shortAddress } from './ConnectWallet.tsx';

/** One PatientRegistry transaction from the connected wallet, with its progress for TxStatus. */
export function useRegistryTx(config: PublicConfig, from: Address) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const [state, setState] = useState<TxProgress>({ phase: 'idle' });
  const send = async (what: string, call: RegistryCall): Promise<boolean> => {
    const ok = await sendRegistryTx(wagmi, config, from, what, call, setState);
    await queryClient.invalidateQueries({ queryKey: ['recovery'] });
    return ok;
  };
  const busy = state.phase === 'signing' || state.phase === 'pending';
  return { state, send, busy, reset: () => setState({ phase: 'idle' }) };
}

/** A transaction's progress in words: waiting for the wallet, pending, confirmed or failed (and why). */
export function TxStatus({ state, testId = 'tx-status' }: { state: TxProgress; testId?: string }) {
  if (state.phase === 'idle') return null;
  return (
    <div className="tx-status">
      <p role="status" aria-live="polite" data-testid={testId} data-phase={state.phase}>
        {state.phase === 'signing' ? `${state.what}: waiting for your wallet…` : null}
        {state.phase === 'pending' ? `${state.what}: transaction pending (${shortAddress(state.hash)})…` : null}
        {state.phase === 'confirmed' ? `${state.what}: confirmed in block ${state.blockNumber.toString()}.` : null}
        {state.phase === 'failed' ? `${state.what}: failed.` : null}
      </p>
      {state.phase === 'failed' ? (
        <p role="alert" className="error" data-testid={`${testId}-error`}>
          {state.problem}
        </p>
      ) : null}
    </div>
  );
}
