import type { LoaderFunctionArgs } from '@remix-run/node';
import { ciphertextOf } from '../lib/records.server.ts';
import { jsonError, requirePatient } from '../lib/session.server.ts';

// GET /api/blobs/:cid: one of the signed-in patient's ciphertexts (opaque bytes).

export async function loader({ request, params }: LoaderFunctionArgs) {
  try {
    const bytes = await ciphertextOf(requirePatient(request), String(params.cid));
    return new Response(Buffer.from(bytes), { headers: { 'content-type': 'application/octet-stream', 'cache-control': 'private, max-age=31536000, immutable' } });
  } catch (err) {
    return jsonError(err);
  }
}
