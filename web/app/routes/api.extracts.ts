import type { ActionFunctionArgs } from '@remix-run/node';
import { uploadExtract } from '../lib/extracts.server.ts';
import { ApiError, jsonError } from '../lib/session.server.ts';

// POST /api/extracts {studyId, ciphertext, shares: [{member, sealedShare}]}: a sealed study extract,
// uploaded without a session before enrolment (see lib/extracts.server.ts). At most 6 MiB of JSON.

const MAX_BODY = 6 * 1024 * 1024;

export async function action({ request }: ActionFunctionArgs) {
  try {
    if (request.method !== 'POST') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'POST a sealed extract');
    if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY) throw new ApiError(413, 'EXTRACT_TOO_LARGE', 'An extract upload is at most 6 MiB');
    const text = await request.text();
    if (text.length > MAX_BODY) throw new ApiError(413, 'EXTRACT_TOO_LARGE', 'An extract upload is at most 6 MiB');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError(400, 'BAD_EXTRACT', 'The body is not JSON');
    }
    return Response.json(await uploadExtract(body));
  } catch (err) {
    return jsonError(err);
  }
}
