import type { ActionFunctionArgs } from '@remix-run/node';
import { storeShares } from '../lib/shares.server.ts';
import { jsonError, requireCurrentPatient } from '../lib/session.server.ts';

// POST /api/records/shares {epoch, shares: [{recordId, version, member, sealedShare}]}: committee
// shares split in the patient's browser, each sealed to one member.

export async function action({ request }: ActionFunctionArgs) {
  try {
    const patient = await requireCurrentPatient(request);
    return Response.json(await storeShares(patient, await request.json().catch(() => null)));
  } catch (err) {
    return jsonError(err);
  }
}
