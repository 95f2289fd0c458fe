import { useQuery } from '@tanstack/react-query';
import type { Address } from 'viem';
import type { PublicConfig } from '../lib/public-config.ts';
import { readRecoveryState } from '../lib/recovery.client.ts';
import { chainTime, sameAddress, untilInWords } from '../lib/recovery.ts';
import { shortAddress } from './ConnectWallet.tsx';
import { TxStatus, useRegistryTx } from './RegistryTx.tsx';

/** The chain's recovery state of `account`, kept fresh (a recovery can start at any moment). */
export function useRecoveryState(config: PublicConfig, account: Address | undefined) {
  return useQuery({
    queryKey: ['recovery', 'state', account?.toLowerCase()],
    enabled: Boolean(account && config.contracts?.PatientRegistry),
    queryFn: () => readRecoveryState(config, account!),
    refetchInterval: 2000,
  });
}

/**
 * The patient's notice that a recovery of their account is under way (the chain shows an active
 * recovery), with the one thing to do if it was not them: cancel it while they still hold this wallet.
 * Shown to the wallet that controls the account; nothing when there is no recovery.
 */
export function RecoveryBanner({ config, wallet, account }: { config: PublicConfig; wallet: Address; account: Address }) {
  const state = useRecoveryState(config, account);
  const tx = useRegistryTx(config, wallet);
  const s = state.data;
  if (!s?.active || !sameAddress(s.controller, wallet)) {
    return tx.state.phase === 'confirmed' ? (
      <div className="banner" role="status" data-testid="recovery-banner" data-state="cancelled">
        <TxStatus state={tx.state} testId="cancel-recovery-status" />
        <p>The recovery was cancelled: your account stays with this wallet. Its guardians&apos; approvals no longer count.</p>
      </div>
    ) : null;
  }
  const r = s.active;
  const ready = r.readyAt > 0;
  return (
    <div className="banner banner--problem recovery-banner" role="alert" data-testid="recovery-banner" data-state="active">
      <h2>A recovery of your account is under way</h2>
      <p>
        Your guardians have started to move your account to another wallet, <code title={r.newController}>{shortAddress(r.newController)}</code>,
        on {chainTime(r.startedAt).toLocaleString()}. {r.approvalCount} of the {s.threshold} approvals it needs are in.{' '}
        {ready
          ? `It can be completed from ${chainTime(r.readyAt).toLocaleString()} (in ${untilInWords(r.readyAt, s.now)}).`
          : 'Once enough guardians approve, a waiting period starts before it can complete.'}
      </p>
      <p>
        <strong>If you did not ask for this, cancel it now.</strong> Only this wallet can, and only until the recovery completes. If
        you did lose access and asked your guardians for help, leave it.
      </p>
      <button type="button" className="button danger" disabled={tx.busy} onClick={() => void tx.send('Cancel the recovery', { functionName: 'cancelRecovery', args: [] })}>
        {tx.busy ? 'Cancelling…' : 'Cancel this recovery'}
      </button>
      <TxStatus state={tx.state} testId="cancel-recovery-status" />
    </div>
  );
}
