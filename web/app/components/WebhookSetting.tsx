import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import type { Address } from 'viem';
import { useConfig } from 'wagmi';
import { absoluteTime } from '../lib/access.ts';
import { clearWebhook, fetchWebhook, saveWebhook, WebhookApiError } from '../lib/access.client.ts';
import { describeError } from '../lib/errors.ts';
import type { PublicConfig } from '../lib/public-config.ts';
import { ensureSession } from '../lib/records.client.ts';

/**
 * The patient's optional notification webhook: a URL of their own that gets a signed POST for each
 * new request, answer, revocation and break-glass. The secret that signs deliveries is shown once.
 */
export function WebhookSetting({ config, patient, wallet = patient }: { config: PublicConfig; patient: Address; wallet?: Address }) {
  const wagmi = useConfig();
  const queryClient = useQueryClient();
  const id = useId();
  const key = ['webhook', patient.toLowerCase()];
  const current = useQuery({ queryKey: key, queryFn: fetchWebhook, retry: false });
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<{ text: string; secret?: string } | null>(null);
  const notSignedIn = current.error instanceof WebhookApiError && /NOT_SIGNED_IN|SESSION_EXPIRED/.test(current.error.code);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setProblem(null);
    setOutcome(null);
    try {
      await work();
    } catch (err) {
      setProblem(err instanceof WebhookApiError ? err.message : describeError(err, { rpcUrl: config.rpcUrl, stage: 'signing' }));
    } finally {
      setBusy(false);
      await queryClient.invalidateQueries({ queryKey: key });
    }
  };
  const signIn = () => run(() => ensureSession(wagmi, wallet, config.chainId, patient));
  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const { webhook, secret } = await saveWebhook(url.trim());
      setUrl('');
      setOutcome({ text: `Saved: notifications go to ${webhook.url} from block ${webhook.fromBlock + 1} on.`, secret });
    });
  };
  const clear = () =>
    run(async () => {
      const { cleared } = await clearWebhook();
      setOutcome({ text: cleared ? 'Cleared: no more notifications are sent.' : 'There was no webhook to clear.' });
    });

  return (
    <section className="panel" aria-labelledby={`${id}-title`} data-testid="webhook">
      <h2 id={`${id}-title`}>Notifications (optional)</h2>
      <p className="muted">
        Give a URL of your own and Consentry POSTs to it when someone asks for your records, when a request is answered or a grant revoked, and when
        emergency access opens. Each delivery is signed with a secret shown to you once (header <code>x-consentry-signature</code>).
      </p>
      {notSignedIn ? (
        <button type="button" className="button" disabled={busy} onClick={() => void signIn()}>
          Sign in to manage notifications
        </button>
      ) : null}
      {current.error && !notSignedIn ? (
        <p role="alert" className="error">
          Your webhook cannot be read: {current.error.message}
        </p>
      ) : null}
      {current.data !== undefined ? (
        <>
          <p data-testid="webhook-current">
            {current.data ? (
              <>
                Notifications go to <code>{current.data.url}</code> (set {absoluteTime(Math.floor(current.data.createdAt / 1000))}).
              </>
            ) : (
              'No webhook is set.'
            )}
          </p>
          <form onSubmit={save} className="webhook-form">
            <label htmlFor={`${id}-url`}>Webhook URL</label>
            <input id={`${id}-url`} type="url" required placeholder="https://example.org/consentry" value={url} onChange={(e) => setUrl(e.target.value)} />
            <div className="button-row">
              <button type="submit" className="button button--primary" disabled={busy || url.trim() === ''}>
                {current.data ? 'Replace webhook' : 'Save webhook'}
              </button>
              {current.data ? (
                <button type="button" className="button danger" disabled={busy} onClick={() => void clear()}>
                  Clear webhook
                </button>
              ) : null}
            </div>
          </form>
        </>
      ) : null}
      <div role="status" aria-live="polite" data-testid="webhook-status">
        {busy ? 'Saving…' : null}
        {outcome ? <p>{outcome.text}</p> : null}
        {outcome?.secret ? (
          <p className="notice">
            Secret (shown only now; copy it to check deliveries): <code data-testid="webhook-secret">{outcome.secret}</code>
          </p>
        ) : null}
      </div>
      {problem ? (
        <p role="alert" className="error">
          {problem}
        </p>
      ) : null}
    </section>
  );
}
