// One release gateway process (`npm start` runs three: a 2-of-3 committee on the local chain).
// Reads the shared configuration (sdk/src/config.ts) and:
//   GATEWAY_KEY_FILE         JSON {privateKey, x25519SecretKey} of this committee member (required)
//   GATEWAY_PORT             port on 127.0.0.1 (default 4360)
//   GATEWAY_LOG_INTERVAL_MS  how often the release log's new entries are posted as a Merkle root (10000)
//   VAULT_DATABASE_SCHEMA    PostgreSQL schema of the vault (with DATABASE_URL)
//   GATEWAY_SERVER_TIMING    1: each release answers with a Server-Timing header (where its time went)
// The release log is DATA_DIR/gateways/<member>.sqlite. SIGINT/SIGTERM close it cleanly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import { blobStoreFromEnv } from '@consentry/sdk/blobs/from-env';
import { loadConfig } from '@consentry/sdk/config';
import { pause } from '@consentry/sdk/net';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConfigError } from '@consentry/sdk/errors';
import { fromBase64 } from '@consentry/sdk/records/versions';
import { Vault, vaultOptionsFor } from '../records/vault.ts';
import { createGateway } from './gateway.ts';
import { startGatewayServer } from './server.ts';

const gatewayEnv = z.object({
  GATEWAY_KEY_FILE: z.string().min(1),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(4360),
  GATEWAY_LOG_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
  VAULT_DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional(),
  GATEWAY_SERVER_TIMING: z.enum(['0', '1']).default('0'),
});
const keyFileSchema = z.object({ privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/), x25519SecretKey: z.string().min(40) });

export async function runGateway(env: Record<string, string | undefined>, signal: AbortSignal): Promise<void> {
  const config = loadConfig(env);
  const parsed = gatewayEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) throw new ConfigError(`Invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  const extra = parsed.data;
  let key: z.infer<typeof keyFileSchema>;
  try {
    key = keyFileSchema.parse(JSON.parse(readFileSync(extra.GATEWAY_KEY_FILE, 'utf8')));
  } catch {
    throw new ConfigError(`GATEWAY_KEY_FILE ${extra.GATEWAY_KEY_FILE} does not hold a member key ({privateKey, x25519SecretKey})`);
  }
  const member = privateKeyToAccount(key.privateKey as Hex).address;
  const log = pino({ level: config.LOG_LEVEL }).child({ service: 'gateway', member });
  const vault = await Vault.open(vaultOptionsFor(config, env));
  const gateway = createGateway({
    memberPrivateKey: key.privateKey as Hex,
    memberSecretKey: fromBase64(key.x25519SecretKey),
    vault,
    blobs: await blobStoreFromEnv({ DATA_DIR: config.DATA_DIR, ...env }),
    rpcUrl: config.RPC_URL,
    deployment: readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR),
    logFile: join(config.DATA_DIR, 'gateways', `${member.toLowerCase()}.sqlite`),
    timing: extra.GATEWAY_SERVER_TIMING === '1',
  });
  const server = await startGatewayServer(gateway, { port: extra.GATEWAY_PORT });
  log.info({ url: server.url }, `gateway listening on ${server.url}`);
  try {
    while (!signal.aborted) {
      await pause(extra.GATEWAY_LOG_INTERVAL_MS, signal);
      try {
        const posted = await gateway.postLogRoots();
        if (posted > 0) log.info({ entries: posted }, 'posted a release-log root');
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'posting the log root failed; entries stay pending');
      }
    }
  } finally {
    await server.close();
    gateway.close();
    await vault.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => controller.abort());
  runGateway(process.env, controller.signal).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`gateway: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
