/**
 * A signed-in patient's webhook (docs/decisions/015): set or replace it (a fresh secret is handed
 * out once), see it (never the secret again), clear it. Deliveries are made by the notifier worker
 * (workers/src/notify), which reads the same tables. Events from the block after the chain head at
 * the time of setting are delivered. Loopback receivers are allowed only on the local chain.
 */
import type { Address } from 'viem';
import { z } from 'zod';
import { publicClientFor } from '@consentry/sdk/clients';
import { NotifyStore, notifyOptionsFor, type WebhookInfo } from '@consentry/workers/src/notify/store.ts';
import { checkWebhookUrl } from '@consentry/workers/src/notify/webhook-url.ts';
import { serverConfig } from './config.server.ts';
import { ApiError } from './session.server.ts';

export type WebhookDeps = {
  store: NotifyStore;
  /** The chain head now: events of later blocks are delivered. */
  headBlock: () => Promise<number>;
  allowLoopback: boolean;
};

let opened: Promise<WebhookDeps> | undefined;

/** The notifier's tables and the chain, opened once per server process from the configuration. */
export function webhookDeps(): Promise<WebhookDeps> {
  opened ??= (async () => {
    const { config } = serverConfig();
    const store = await NotifyStore.open(notifyOptionsFor(config));
    const client = publicClientFor(config.RPC_URL, config.CHAIN_ID);
    return { store, headBlock: async () => Number(await client.getBlockNumber()), allowLoopback: config.CHAIN_ID === 31337 };
  })().catch((err: unknown) => {
    opened = undefined;
    throw err;
  });
  return opened;
}

const setSchema = z.object({ url: z.string() });

export async function webhookOf(patient: Address, deps: WebhookDeps): Promise<{ webhook: WebhookInfo | null }> {
  return { webhook: await deps.store.webhook(patient) };
}

/** Sets or replaces the webhook; the answer carries the secret, the only time it is shown. */
export async function setWebhook(patient: Address, body: unknown, deps: WebhookDeps): Promise<{ webhook: WebhookInfo; secret: string }> {
  const parsed = setSchema.safeParse(body);
  if (!parsed.success) throw new ApiError(400, 'BAD_WEBHOOK', 'Send {"url": "https://..."} to set a webhook');
  let url: string;
  try {
    url = checkWebhookUrl(parsed.data.url, { allowLoopback: deps.allowLoopback });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'WEBHOOK_URL_INVALID';
    throw new ApiError(400, code, err instanceof Error ? err.message : String(err));
  }
  let head: number;
  try {
    head = await deps.headBlock();
  } catch {
    throw new ApiError(503, 'CHAIN_UNREACHABLE', 'The chain is not answering, so the webhook cannot be set now; try again');
  }
  const { secret, ...webhook } = await deps.store.setWebhook(patient, url, head);
  return { webhook, secret };
}

export async function clearWebhook(patient: Address, deps: WebhookDeps): Promise<{ cleared: boolean }> {
  return { cleared: await deps.store.clearWebhook(patient) };
}
