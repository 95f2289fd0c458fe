import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node';
import { jsonError, requireSession, signIn } from '../lib/session.server.ts';

// GET /api/session: who is signed in, {address (the wallet), account (the patient account it acts
// for)}; 401 if nobody. POST: sign in with a signed message.

export async function loader({ request }: LoaderFunctionArgs) {
  try {
    const { wallet, account } = requireSession(request);
    return Response.json({ address: wallet, account });
  } catch (err) {
    return jsonError(err);
  }
}

export async function action({ request }: ActionFunctionArgs) {
  try {
    const { address, account, cookie } = await signIn(await request.json().catch(() => null));
    return Response.json({ address, account }, { headers: { 'set-cookie': cookie } });
  } catch (err) {
    return jsonError(err);
  }
}
