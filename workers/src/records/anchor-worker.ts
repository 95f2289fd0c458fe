// The record anchoring worker (started by `npm start`): every ANCHOR_INTERVAL_MS it anchors the
// vault's pending record versions, up to 1024 per transaction (batches fill by size; the interval is
// the age limit), and stores each version's inclusion proof. Versions written by the web app are
// anchored this way; the CLI anchors its own with `consentry anchor`. A failed round (chain down,
// dropped transaction) leaves the versions pending for the next one.
//
// Reads the shared configuration (sdk/src/config.ts) and, optionally:
//   ANCHOR_INTERVAL_MS      pause between rounds (5000)
//   ANCHORER_PRIVATE_KEY    the account that pays for anchoring (default DEPLOYER_PRIVATE_KEY, or
//                           anvil's first account on the local chain)
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import type { Hex } from 'viem';
import { z } from 'zod';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import { loadConfig } from '@consentry/sdk/config';
import { pause } from '@consentry/sdk/net';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConfigError } from '@consentry/sdk/errors';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { anchorPending } from './service.ts';
import { Vault, vaultOptionsFor } from './vault.ts';

const workerEnv = z.object({
  ANCHOR_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
  ANCHORER_PRIVATE_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 32-byte hex private key').optional(),
  VAULT_DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional(),
});

export async function runAnchorWorker(env: Record<string, string | undefined>, signal: AbortSignal): Promise<void> {
  const config = loadConfig(env);
  const parsed = workerEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) throw new ConfigError(`Invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  const extra = parsed.data;
  const privateKey = (extra.ANCHORER_PRIVATE_KEY ?? config.DEPLOYER_PRIVATE_KEY ?? (config.CHAIN_ID === 31337 ? ANVIL_ACCOUNTS[0]!.privateKey : undefined)) as Hex | undefined;
  if (!privateKey) throw new ConfigError('ANCHORER_PRIVATE_KEY (or DEPLOYER_PRIVATE_KEY) is required outside the local chain');
  const log = pino({ level: config.LOG_LEVEL }).child({ service: 'anchorer' });
  const deployment = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR);
  const vault = await Vault.open(vaultOptionsFor(config, env));
  const blobs = await blobStoreFromEnv({ DATA_DIR: config.DATA_DIR, ...env });
  log.info({ vault: vault.location, intervalMs: extra.ANCHOR_INTERVAL_MS }, 'anchoring pending record versions');
  try {
    while (!signal.aborted) {
      try {
        const { batches, versions } = await anchorPending({ vault, blobs, rpcUrl: config.RPC_URL, privateKey, deployment });
        if (versions > 0) log.info({ batches, versions }, 'anchored');
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'anchoring failed; versions stay pending');
      }
      await pause(extra.ANCHOR_INTERVAL_MS, signal);
    }
  } finally {
    await vault.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => controller.abort());
  runAnchorWorker(process.env, controller.signal).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`anchorer: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
