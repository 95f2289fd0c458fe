import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node';
import { jsonError, requireCurrentPatient, requirePatient } from '../lib/session.server.ts';
import { clearWebhook, setWebhook, webhookDeps, webhookOf } from '../lib/webhook.server.ts';

// The signed-in patient's notification webhook. GET: {webhook: {url, createdAt, fromBlock} | null}
// (never the secret). POST {url}: set or replace it; answers {webhook, secret}, the secret shown
// this once (deliveries carry x-consentry-signature: sha256=<hex HMAC-SHA256(secret, body)>).
// DELETE: clear it ({cleared}).

export async function loader({ request }: LoaderFunctionArgs) {
  try {
    return Response.json(await webhookOf(requirePatient(request), await webhookDeps()));
  } catch (err) {
    return jsonError(err);
  }
}

export async function action({ request }: ActionFunctionArgs) {
  try {
    const patient = await requireCurrentPatient(request);
    if (request.method === 'POST') return Response.json(await setWebhook(patient, await request.json().catch(() => null), await webhookDeps()));
    if (request.method === 'DELETE') return Response.json(await clearWebhook(patient, await webhookDeps()));
    return Response.json(
      { error: { code: 'METHOD_NOT_ALLOWED', message: 'GET shows the webhook, POST {"url"} sets it, DELETE clears it' } },
      { status: 405, headers: { allow: 'GET, POST, DELETE' } },
    );
  } catch (err) {
    return jsonError(err);
  }
}
