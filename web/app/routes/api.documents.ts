import type { ActionFunctionArgs } from '@remix-run/node';
import { storeDocument } from '../lib/documents.server.ts';
import { jsonError, requirePatient } from '../lib/session.server.ts';

// POST /api/documents {kind: 'text', text} | {kind: 'metadata', metadata}: a study document stored
// content-addressed (lib/documents.server.ts); answers {hash, cid}. Needs a signed-in wallet.

export async function action({ request }: ActionFunctionArgs) {
  try {
    requirePatient(request);
    return Response.json(await storeDocument(await request.json().catch(() => null)));
  } catch (err) {
    return jsonError(err);
  }
}
