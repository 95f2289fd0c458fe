// The credential issuer process (`npm start` runs one on the local chain; docs/decisions/019).
// Reads the shared configuration (sdk/src/config.ts: RPC_URL, CHAIN_ID, DEPLOYMENTS_DIR, DATA_DIR,
// ISSUER_PORT) and:
//   ISSUER_PRIVATE_KEY     0x + 64 hex: the issuer's secret (else DATA_DIR/issuer/key.json, made once, 0600)
//   ISSUER_NAME            shown to patients (default "Consentry local issuer")
//   ISSUER_VALIDITY_DAYS   how long a credential is valid (default 365)
// It answers on 127.0.0.1 (see server.ts) and logs each answer's status and code only: never
// records, attributes, commitments or keys. SIGINT/SIGTERM stop it.
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { z } from 'zod';
import { loadConfig } from '@consentry/sdk/config';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConfigError } from '@consentry/sdk/errors';
import { loadFhirDefinitions } from '@consentry/sdk/records/fhir';
import { chainAccreditation, createIssuer } from './issuer.ts';
import { issuerSecretSchema, loadIssuerKey } from './key.ts';
import { startIssuerServer } from './server.ts';

const issuerEnv = z.object({
  ISSUER_PRIVATE_KEY: issuerSecretSchema.optional(),
  ISSUER_NAME: z.string().trim().min(1).max(200).default('Consentry local issuer'),
  ISSUER_VALIDITY_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
});
export type IssuerEnv = z.infer<typeof issuerEnv>;

export function parseIssuerEnv(env: Record<string, string | undefined>): IssuerEnv {
  const parsed = issuerEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    // The message names the variable, never its value (ISSUER_PRIVATE_KEY is a secret).
    throw new ConfigError(`Invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}

export async function runIssuer(env: Record<string, string | undefined>, signal: AbortSignal): Promise<void> {
  const config = loadConfig(env);
  const extra = parseIssuerEnv(env);
  const log = pino({ level: config.LOG_LEVEL }).child({ service: 'issuer' });
  const registry = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR).contracts.IssuerRegistry?.address;
  if (!registry) throw new ConfigError(`The deployment of chain ${config.CHAIN_ID} has no IssuerRegistry; deploy the contracts (npm start) first`);
  const key = loadIssuerKey({ privateKey: extra.ISSUER_PRIVATE_KEY, dataDir: config.DATA_DIR });
  // The R4 definitions take a couple of seconds to index: before the first request, not during it.
  loadFhirDefinitions();
  const issuer = createIssuer({
    key,
    name: extra.ISSUER_NAME,
    validityDays: extra.ISSUER_VALIDITY_DAYS,
    isAccredited: chainAccreditation({ rpcUrl: config.RPC_URL, chainId: config.CHAIN_ID, registry }),
  });
  const server = await startIssuerServer(issuer, {
    port: config.ISSUER_PORT,
    // Health checks (the stack's supervisor) would drown the rest.
    onAnswer: (a) => (a.path === '/health' ? log.debug(a, 'answered') : log.info(a, 'answered')),
    onError: (err) => log.error({ err: err instanceof Error ? err.message.split('\n')[0] : String(err) }, 'request failed'),
  });
  const accredited = await issuer.info().then((i) => i.accredited, () => null);
  log.info(
    { url: server.url, leaf: issuer.leaf.toString(), key: key.source === 'ISSUER_PRIVATE_KEY' ? 'ISSUER_PRIVATE_KEY' : 'DATA_DIR', accredited },
    `issuer listening on ${server.url}${accredited === false ? ' (not accredited on chain: credentials are refused until an accreditor adds its leaf)' : ''}`,
  );
  await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  await server.close();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => controller.abort());
  runIssuer(process.env, controller.signal).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`issuer: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
