import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@consentry/sdk/config';
import { startStack, type Stack } from '../../scripts/stack.ts';

export const E2E_CHAIN_ID = 31337;

/**
 * The whole stack for one e2e file on free ports, with its own chain, index, vault and deployment
 * record in a fresh folder (never the developer's `.consentry/`). The web app must be built.
 */
export async function startE2eStack(env: Record<string, string> = {}): Promise<{ stack: Stack; workDir: string }> {
  if (!existsSync(join(REPO_ROOT, 'web', 'build', 'server', 'index.js'))) {
    throw new Error('The web app is not built: run `npm run build -w @consentry/web` first (npm test does).');
  }
  const workDir = mkdtempSync(join(tmpdir(), 'consentry-e2e-'));
  const stack = await startStack({
    ephemeralPorts: true,
    blockTime: 1,
    env: {
      RPC_URL: undefined,
      SUBGRAPH_URL: undefined,
      DATABASE_URL: undefined,
      CHAIN_ID: String(E2E_CHAIN_ID),
      DATA_DIR: join(workDir, 'data'),
      DEPLOYMENTS_DIR: join(workDir, 'deployments'),
      LOG_LEVEL: 'warn',
      ...env,
    },
    log: () => {},
  });
  return { stack, workDir };
}
