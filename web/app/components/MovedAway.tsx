import type { Address } from 'viem';
import { shortAddress } from './ConnectWallet.tsx';

/** A wallet whose account a recovery moved to another wallet: it acts for nothing any more. */
export function MovedAway({ wallet, movedTo }: { wallet: Address; movedTo: Address }) {
  return (
    <section className="panel" aria-labelledby="moved-title" data-testid="account-moved">
      <h2 id="moved-title">This wallet no longer controls its account</h2>
      <p role="status">
        A recovery moved the account of <code title={wallet}>{shortAddress(wallet)}</code> to another wallet, <code title={movedTo}>{movedTo}</code>,
        after its guardians approved and the waiting period passed. Use that wallet. If you did not ask for this, contact your guardians.
      </p>
    </section>
  );
}
