import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node';
import { jsonError, requirePatient, signIn } from '../lib/session.server.ts';

// GET /api/session: who is signed in (401 if nobody). POST: sign in with a signed message.

export async function loader({ request }: LoaderFunctionArgs) {
  try {
    return Response.json({ address: requirePatient(request) });
  } catch (err) {
    return jsonError(err);
  }
}

export async function action({ request }: ActionFunctionArgs) {
  try {
    const { address, cookie } = await signIn(await request.json().catch(() => null));
    return Response.json({ address }, { headers: { 'set-cookie': cookie } });
  } catch (err) {
    return jsonError(err);
  }
}
