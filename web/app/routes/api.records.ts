import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node';
import { recordsOf, storeUpload } from '../lib/records.server.ts';
import { jsonError, requireCurrentPatient, requirePatient } from '../lib/session.server.ts';

// GET /api/records: the signed-in patient's versions, erasures and anchors (no plaintext exists
// here to return). POST: store new versions with their ciphertexts.

export async function loader({ request }: LoaderFunctionArgs) {
  try {
    return Response.json(await recordsOf(requirePatient(request)));
  } catch (err) {
    return jsonError(err);
  }
}

export async function action({ request }: ActionFunctionArgs) {
  try {
    const patient = await requireCurrentPatient(request);
    return Response.json(await storeUpload(patient, await request.json().catch(() => null)));
  } catch (err) {
    return jsonError(err);
  }
}
