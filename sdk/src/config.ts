import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/** The repository root (sdk/src/config.ts → ../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const port = z.coerce.number().int().min(0).max(65535);

const configSchema = z.object({
  RPC_URL: z.url().default('http://127.0.0.1:8545'),
  CHAIN_ID: z.coerce.number().int().positive().default(31337),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  SUBGRAPH_URL: z.url().optional(),
  CONFIRMATIONS: z.coerce.number().int().min(0).max(1000).default(2),
  DATA_DIR: z.string().min(1).default(join(REPO_ROOT, '.consentry')),
  DEPLOYMENTS_DIR: z.string().min(1).default(join(REPO_ROOT, 'deployments')),
  INDEXER_PORT: port.default(4350),
  WEB_PORT: port.default(3000),
  ANVIL_PORT: port.default(8545),
  /** The local credential issuer's port (workers/src/issuer). */
  ISSUER_PORT: port.default(4370),
  /** A credential issuer run elsewhere (a clinic's); then `npm start` runs none of its own. */
  ISSUER_URL: z.url().optional(),
  DEPLOYER_PRIVATE_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 32-byte hex private key')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema> & {
  /** Where clients query the index: SUBGRAPH_URL, or the embedded indexer's GraphQL endpoint. */
  graphqlUrl: string;
  /** Where patients ask for credentials: ISSUER_URL, or the local issuer on ISSUER_PORT. */
  issuerUrl: string;
};

/**
 * Parses the environment once into a typed configuration.
 * Empty strings count as unset, so `RPC_URL= npm start` means "use the default".
 * @throws ConfigError naming every invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(
    Object.keys(configSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid configuration:\n${problems}`);
  }
  const c = parsed.data;
  return {
    ...c,
    graphqlUrl: c.SUBGRAPH_URL ?? `http://127.0.0.1:${c.INDEXER_PORT}/graphql`,
    issuerUrl: (c.ISSUER_URL ?? `http://127.0.0.1:${c.ISSUER_PORT}`).replace(/\/+$/, ''),
  };
}
