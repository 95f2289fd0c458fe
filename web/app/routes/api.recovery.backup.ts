import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node';
import { keyBackup, readJsonBody, saveKeyBackup } from '../lib/recovery.server.ts';
import { ApiError, jsonError, requireSession } from '../lib/session.server.ts';

// GET /api/recovery/backup?account=0x…: the account's key backup, {backupId, threshold, publicKey,
// createdAt, shares: [{guardian, sealedShare}]}; public, each share opens only with its guardian's key.
// POST (the account's controller) {backupId, threshold, publicKey, shares}: replaces the backup after
// checking it against the guardians and key on chain. → {stored}

export async function loader({ request }: LoaderFunctionArgs) {
  try {
    return Response.json(await keyBackup(new URL(request.url)));
  } catch (err) {
    return jsonError(err);
  }
}

export async function action({ request }: ActionFunctionArgs) {
  try {
    if (request.method !== 'POST') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'POST a key backup');
    const session = requireSession(request);
    return Response.json(await saveKeyBackup(session, await readJsonBody(request, 'BAD_BACKUP')));
  } catch (err) {
    return jsonError(err);
  }
}
