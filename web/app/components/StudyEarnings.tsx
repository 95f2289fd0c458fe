/**
 * A participant's earnings in one study and the claim: what the study's per-study address may claim
 * now (StudyMarket.claimable, credited by confirmed purchases), and a gasless claim to an address the
 * participant chooses: the per-study address signs, the relayer sends and pays. The page warns that
 * claiming to the wallet the patient signs in with ties the participation to that wallet on chain.
 */
import { useId, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { erc20Abi, formatUnits, isAddress, type Address, type Hex, type LocalAccount, type PublicClient } from 'viem';
import { studyMarketAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { claimRelayed } from '@consentry/sdk/research/market';

type ClaimPhase = { phase: 'idle' } | { phase: 'pending' } | { phase: 'confirmed'; hash: Hex; amount: string } | { phase: 'failed'; problem: string };

export function StudyEarnings(props: {
  studyId: bigint;
  account: LocalAccount;
  wallet: Address;
  client: PublicClient;
  contracts: { StudyMarket: Address; StudyRegistry: Address; Forwarder: Address | null };
  relayerUrl: string | null;
}) {
  const { studyId, account, wallet, client, contracts, relayerUrl } = props;
  const ids = useId();
  const queryClient = useQueryClient();
  const [to, setTo] = useState('');
  const [claim, setClaim] = useState<ClaimPhase>({ phase: 'idle' });
  const key = ['earnings', studyId.toString(), account.address];
  const earnings = useQuery({
    queryKey: key,
    queryFn: async () => {
      const [amount, study] = await Promise.all([
        client.readContract({ address: contracts.StudyMarket, abi: studyMarketAbi, functionName: 'claimable', args: [studyId, account.address] }),
        client.readContract({ address: contracts.StudyRegistry, abi: studyRegistryAbi, functionName: 'studyOf', args: [studyId] }),
      ]);
      const token = study.paymentToken;
      if (token === '0x0000000000000000000000000000000000000000') return { amount, text: amount.toString() };
      const [decimals, symbol] = await Promise.all([
        client.readContract({ address: token, abi: erc20Abi, functionName: 'decimals' }),
        client.readContract({ address: token, abi: erc20Abi, functionName: 'symbol' }).catch(() => 'tokens'),
      ]);
      return { amount, text: `${formatUnits(amount, decimals)} ${symbol}` };
    },
    refetchInterval: 15_000,
  });
  const target = to.trim();
  const valid = isAddress(target);
  const toWallet = valid && target.toLowerCase() === wallet.toLowerCase();
  const problem = !relayerUrl || !contracts.Forwarder ? 'No relayer is configured on this server, so a claim cannot be sent without ether' : null;

  const send = async () => {
    if (!valid || !relayerUrl) return;
    setClaim({ phase: 'pending' });
    try {
      const result = await claimRelayed({ client, contracts: { StudyMarket: contracts.StudyMarket, StudyRegistry: contracts.StudyRegistry, Forwarder: contracts.Forwarder ?? undefined } }, account, relayerUrl, studyId, target as Address);
      setClaim({ phase: 'confirmed', hash: result.hash, amount: earnings.data?.text ?? result.amount.toString() });
      await queryClient.invalidateQueries({ queryKey: key });
    } catch (err) {
      setClaim({ phase: 'failed', problem: err instanceof Error ? err.message.split('\n')[0]! : String(err) });
    }
  };

  return (
    <section aria-labelledby={`${ids}-earnings`} data-testid="earnings">
      <h4 id={`${ids}-earnings`}>Earnings</h4>
      {earnings.data ? (
        <p data-testid="claimable" data-amount={earnings.data.amount.toString()}>
          You can claim <strong>{earnings.data.text}</strong> from this study&apos;s purchases.
        </p>
      ) : earnings.error ? (
        <p className="error">Your earnings cannot be read from the chain right now.</p>
      ) : (
        <p className="muted">Reading your earnings…</p>
      )}
      {earnings.data && earnings.data.amount > 0n ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <label htmlFor={`${ids}-to`}>Pay to address</label>
          <input id={`${ids}-to`} name="to" value={to} onChange={(e) => setTo(e.target.value)} placeholder="0x…" autoComplete="off" spellCheck={false} aria-describedby={`${ids}-to-help`} />
          <p id={`${ids}-to-help`} className="muted">
            {toWallet
              ? 'This is the wallet you sign in with: claiming to it shows on chain that this study address is yours. Choose another address to stay unlinked.'
              : 'Any address you control. The relayer pays the fee; your study address needs no ether.'}
          </p>
          <div className="button-row">
            <button type="submit" className="button button--primary" disabled={!valid || problem !== null || claim.phase === 'pending'}>
              Claim
            </button>
          </div>
          {problem ? <p className="muted">{problem}</p> : null}
        </form>
      ) : null}
      {claim.phase !== 'idle' ? (
        <p role={claim.phase === 'failed' ? 'alert' : 'status'} className={claim.phase === 'failed' ? 'error' : undefined} data-testid="claim-status" data-phase={claim.phase}>
          {claim.phase === 'pending' ? 'Pending: your study address signed the claim; the relayer is sending it…' : null}
          {claim.phase === 'confirmed' ? (
            <>
              Claimed {claim.amount}: confirmed · <code title={claim.hash}>{claim.hash}</code>
            </>
          ) : null}
          {claim.phase === 'failed' ? `Failed: ${claim.problem}` : null}
        </p>
      ) : null}
    </section>
  );
}
