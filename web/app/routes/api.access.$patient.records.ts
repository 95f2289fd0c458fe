import type { LoaderFunctionArgs } from '@remix-run/node';
import { clinicalDeps, patientParam, recordsForRequester } from '../lib/clinical.server.ts';
import { jsonError, requirePatient } from '../lib/session.server.ts';

// GET /api/access/:patient/records: for the signed-in requester, the patient's current record
// versions (ids, versions, categories, types; no content) in the categories it asked for or holds
// live now; 403 in words for anyone else (docs/decisions/016).

export async function loader({ request, params }: LoaderFunctionArgs) {
  try {
    // The session says who signed in; for this route that is the requester, not a patient.
    const requester = requirePatient(request);
    const patient = patientParam(params.patient);
    return Response.json(await recordsForRequester(await clinicalDeps(), requester, patient), { headers: { 'cache-control': 'no-store' } });
  } catch (err) {
    return jsonError(err);
  }
}
