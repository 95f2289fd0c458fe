import type { ActionFunctionArgs } from '@remix-run/node';
import { readJsonBody, saveSealedKeys } from '../lib/recovery.server.ts';
import { ApiError, jsonError, requireSession } from '../lib/session.server.ts';

// POST /api/records/sealed-keys {updates: [{recordId, version, sealedKey}]} (at most 500, each a
// 105-byte sealed key, base64): a key rotation re-seals the data keys of the account's own versions,
// in the patient's client; the account's controller sends them in batches. → {updated}

export async function action({ request }: ActionFunctionArgs) {
  try {
    if (request.method !== 'POST') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'POST re-sealed keys');
    const session = requireSession(request);
    return Response.json(await saveSealedKeys(session, await readJsonBody(request, 'BAD_SEALED_KEYS')));
  } catch (err) {
    return jsonError(err);
  }
}
