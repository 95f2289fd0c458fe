import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node';
import { readJsonBody, releasedShares, saveReleasedShare } from '../lib/recovery.server.ts';
import { ApiError, jsonError, requireWallet } from '../lib/session.server.ts';

// GET /api/recovery/released?account=0x…&nonce=N: the shares guardians released for that recovery,
// {shares: [{guardian, releasedShare}]}; public, they open only with the recovery key.
// POST (a guardian's wallet) {account, nonce, releasedShare}: refused unless the chain shows recovery
// N of the account completed and the wallet is one of its guardians. → {stored}

export async function loader({ request }: LoaderFunctionArgs) {
  try {
    return Response.json(await releasedShares(new URL(request.url)));
  } catch (err) {
    return jsonError(err);
  }
}

export async function action({ request }: ActionFunctionArgs) {
  try {
    if (request.method !== 'POST') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'POST a released share');
    const guardian = requireWallet(request);
    return Response.json(await saveReleasedShare(guardian, await readJsonBody(request, 'BAD_RELEASE')));
  } catch (err) {
    return jsonError(err);
  }
}
