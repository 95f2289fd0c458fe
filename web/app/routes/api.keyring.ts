import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node';
import { keyring, readJsonBody, saveKeyringEntry } from '../lib/recovery.server.ts';
import { ApiError, jsonError, requirePatient, requireSession } from '../lib/session.server.ts';

// GET /api/keyring: the signed-in account's earlier encryption secrets, each sealed to its current key,
// {entries: [{publicKey, sealedSecret, createdAt}]}. POST (the account's controller) {publicKey,
// sealedSecret}: keeps one (the same publicKey again replaces it), so what was derived from an old
// identity stays reachable after a rotation. → {stored}

export async function loader({ request }: LoaderFunctionArgs) {
  try {
    return Response.json(await keyring(requirePatient(request)));
  } catch (err) {
    return jsonError(err);
  }
}

export async function action({ request }: ActionFunctionArgs) {
  try {
    if (request.method !== 'POST') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'POST a keyring entry');
    const session = requireSession(request);
    return Response.json(await saveKeyringEntry(session, await readJsonBody(request, 'BAD_KEYRING')));
  } catch (err) {
    return jsonError(err);
  }
}
