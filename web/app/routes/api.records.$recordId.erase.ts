import type { ActionFunctionArgs } from '@remix-run/node';
import { eraseRecord } from '../lib/records.server.ts';
import { jsonError, requireCurrentPatient } from '../lib/session.server.ts';

// POST /api/records/:recordId/erase {reason}: crypto-shredding of every sealed key of the record.

export async function action({ request, params }: ActionFunctionArgs) {
  try {
    const patient = await requireCurrentPatient(request);
    const body = (await request.json().catch(() => null)) as { reason?: unknown } | null;
    return Response.json(await eraseRecord(patient, String(params.recordId), body?.reason));
  } catch (err) {
    return jsonError(err);
  }
}
