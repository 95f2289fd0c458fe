import type { LoaderFunctionArgs } from '@remix-run/node';
import { readDocument } from '../lib/documents.server.ts';
import { jsonError } from '../lib/session.server.ts';

// GET /api/documents/:hash[?kind=metadata]: a stored study document, checked against its hash.

export async function loader({ request, params }: LoaderFunctionArgs) {
  try {
    const kind = new URL(request.url).searchParams.get('kind');
    return Response.json(await readDocument(String(params.hash), kind), { headers: { 'cache-control': 'public, max-age=31536000, immutable' } });
  } catch (err) {
    return jsonError(err);
  }
}
