import type { LoaderFunctionArgs } from '@remix-run/node';
import { unsharedVersions } from '../lib/shares.server.ts';
import { jsonError, requirePatient } from '../lib/session.server.ts';

// GET /api/records/unshared?epoch=N[&limit=L][&count=1]: the signed-in patient's versions with no
// committee share for epoch N, with their sealed keys (only the patient's browser can open them).

export async function loader({ request }: LoaderFunctionArgs) {
  try {
    return Response.json(await unsharedVersions(requirePatient(request), new URL(request.url)));
  } catch (err) {
    return jsonError(err);
  }
}
