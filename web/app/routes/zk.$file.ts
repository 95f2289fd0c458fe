import type { LoaderFunctionArgs } from '@remix-run/node';
import { artifactResponse } from '../lib/zk-artifacts.server.ts';

// GET /zk/:file: the proving files (eligibility.wasm, eligibility.zkey, verification_key.json) for
// the browser's prover. Public: they are the same for everyone and say nothing about anyone.
// 503 in words when `npm run circuits:setup` has not been run.

export async function loader({ request, params }: LoaderFunctionArgs) {
  return artifactResponse(request, String(params.file));
}
