// The gasless relayer process (`npm start` runs one on the local chain; docs/decisions/024).
// Reads the shared configuration (sdk/src/config.ts: RPC_URL, CHAIN_ID, DEPLOYMENTS_DIR, DATA_DIR,
// LOG_LEVEL) and:
//   RELAYER_PORT             where it listens on 127.0.0.1 (default 4380)
//   RELAYER_PRIVATE_KEY      0x + 64 hex: the account that pays the gas (else DATA_DIR/relayer/key.json,
//                            made once, 0600; fund it: on the local chain the stack does)
//   RELAYER_FORWARDER        the ERC2771Forwarder (default: the deployment's Forwarder)
//   RELAYER_ALLOW            what it relays, replacing the default: `0xAddress:fn(type,...)|fn2(...);0xOther:...`
//                            (default: StudyRegistry.enroll, ConsentToken.revoke, StudyMarket.claim
//                            from the deployment, as many of them as are deployed)
//   RELAYER_MAX_GAS          most gas a request may ask for (default 1,500,000)
//   RELAYER_PER_SIGNER_PER_MINUTE, RELAYER_PER_MINUTE   rate limits (default 10 and 120)
// It logs each answer's status and code only: never a request's signer, data or signature (the
// signer is a participant's study address). SIGINT/SIGTERM stop it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { getAddress, isAddress, toFunctionSelector, type Abi, type AbiFunction, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { loadConfig, REPO_ROOT } from '@consentry/sdk/config';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConfigError } from '@consentry/sdk/errors';
import { loadRelayerKey, relayerKeySchema } from './key.ts';
import { createRelayer, type AllowedTarget } from './relayer.ts';
import { startRelayerServer, type RelayerServer } from './server.ts';

/** What the marketplace relays by default: the contract (its deployment name) and the function. */
export const DEFAULT_RELAYED = [
  { contract: 'StudyRegistry', fn: 'enroll' },
  { contract: 'ConsentToken', fn: 'revoke' },
  { contract: 'StudyMarket', fn: 'claim' },
] as const;

const address = z.string().refine((s) => isAddress(s, { strict: false }), 'must be an address (0x + 40 hex)').transform((s) => getAddress(s));

/** `0xAddress:fn(uint256)|other(address);0xAddress2:claim(uint256,address)` into an allow-list. */
export function parseAllowList(spec: string): AllowedTarget[] {
  return spec
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [addr, fns] = entry.split(':');
      const parsedAddress = address.safeParse(addr?.trim());
      if (!parsedAddress.success || !fns) throw new ConfigError(`RELAYER_ALLOW: "${entry}" is not 0xAddress:function(types)|…`);
      const signatures = fns.split('|').map((f) => f.trim()).filter(Boolean);
      const selectors = signatures.map((sig) => {
        if (!/^[A-Za-z_$][\w$]*\([\w,()[\] ]*\)$/.test(sig)) throw new ConfigError(`RELAYER_ALLOW: "${sig}" is not a function signature such as claim(uint256,address)`);
        return toFunctionSelector(`function ${sig}`);
      });
      return { address: parsedAddress.data, selectors, name: `${parsedAddress.data}:${signatures.join('|')}` };
    });
}

const relayerEnv = z.object({
  RELAYER_PORT: z.coerce.number().int().min(0).max(65535).default(4380),
  RELAYER_PRIVATE_KEY: relayerKeySchema.optional(),
  RELAYER_FORWARDER: address.optional(),
  RELAYER_ALLOW: z.string().optional(),
  RELAYER_MAX_GAS: z.coerce.number().int().min(21_000).max(30_000_000).default(1_500_000),
  RELAYER_PER_SIGNER_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(10),
  RELAYER_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
});
export type RelayerEnv = z.infer<typeof relayerEnv>;

export function parseRelayerEnv(env: Record<string, string | undefined>): RelayerEnv {
  const parsed = relayerEnv.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    // The message names the variable, never its value (RELAYER_PRIVATE_KEY is a secret).
    throw new ConfigError(`Invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return parsed.data;
}

/** A contract's ABI from the forge build (contracts/out), or undefined when it was not built. */
export function builtAbi(name: string, outDir = join(REPO_ROOT, 'contracts', 'out')): Abi | undefined {
  const file = join(outDir, `${name}.sol`, `${name}.json`);
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { abi: Abi }).abi;
}

/** The selectors of every function called `fn` in an ABI (all its overloads). */
export function selectorsOf(abi: Abi, fn: string): Hex[] {
  return abi.filter((i): i is AbiFunction => i.type === 'function' && i.name === fn).map((f) => toFunctionSelector(f));
}

/**
 * The default allow-list: each of DEFAULT_RELAYED whose contract is deployed, with the selectors
 * of its function as built. The addresses come from the deployment, the selectors from the ABI, so
 * a changed signature follows without configuration.
 */
export function defaultAllowList(contracts: Readonly<Record<string, { address: Address } | undefined>>, abiOf: (name: string) => Abi | undefined = builtAbi): AllowedTarget[] {
  const allow: AllowedTarget[] = [];
  for (const { contract, fn } of DEFAULT_RELAYED) {
    const deployed = contracts[contract];
    const abi = abiOf(contract);
    if (!deployed || !abi) continue;
    const selectors = selectorsOf(abi, fn);
    if (selectors.length > 0) allow.push({ address: deployed.address, selectors, name: `${contract}.${fn}` });
  }
  return allow;
}

export async function runRelayer(env: Record<string, string | undefined>, signal: AbortSignal, onListening?: (server: RelayerServer) => void): Promise<void> {
  const config = loadConfig(env);
  const extra = parseRelayerEnv(env);
  const log = pino({ level: config.LOG_LEVEL }).child({ service: 'relayer' });
  // Contracts added by issue 7 may not be in the deployment schema yet: read them by name.
  const contracts = (() => {
    try {
      return readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR).contracts as Readonly<Record<string, { address: Address } | undefined>>;
    } catch (err) {
      if (extra.RELAYER_FORWARDER && extra.RELAYER_ALLOW) return {};
      throw err;
    }
  })();
  const forwarder = extra.RELAYER_FORWARDER ?? contracts.Forwarder?.address;
  if (!forwarder) throw new ConfigError(`The deployment of chain ${config.CHAIN_ID} has no Forwarder; deploy the contracts (npm start) first, or set RELAYER_FORWARDER`);
  const allow = extra.RELAYER_ALLOW ? parseAllowList(extra.RELAYER_ALLOW) : defaultAllowList(contracts);
  if (allow.length === 0) throw new ConfigError('The relayer has nothing to relay: none of StudyRegistry, ConsentToken, StudyMarket is deployed (or set RELAYER_ALLOW)');
  const key = loadRelayerKey({ privateKey: extra.RELAYER_PRIVATE_KEY, dataDir: config.DATA_DIR });
  // The marketplace's own errors, decoded into their names when a request would revert.
  const abis = DEFAULT_RELAYED.flatMap(({ contract }) => builtAbi(contract) ?? []) as Abi;
  const relayer = createRelayer({
    rpcUrl: config.RPC_URL,
    chainId: config.CHAIN_ID,
    privateKey: key.privateKey,
    forwarder,
    allow,
    abis,
    maxGas: BigInt(extra.RELAYER_MAX_GAS),
    rateLimit: {
      perFrom: { max: extra.RELAYER_PER_SIGNER_PER_MINUTE, windowMs: 60_000 },
      global: { max: extra.RELAYER_PER_MINUTE, windowMs: 60_000 },
    },
  });
  const server = await startRelayerServer(relayer, {
    port: extra.RELAYER_PORT,
    // Health checks (the stack's supervisor) would drown the rest.
    onAnswer: (a) => (a.path === '/health' ? log.debug(a, 'answered') : log.info(a, 'answered')),
    onError: (err) => log.error({ err: err instanceof Error ? err.message.split('\n')[0] : String(err) }, 'request failed'),
  });
  const health = await relayer.health().catch(() => undefined);
  log.info(
    { url: server.url, address: key.address, key: key.source === 'RELAYER_PRIVATE_KEY' ? 'RELAYER_PRIVATE_KEY' : 'DATA_DIR', forwarder, relays: allow.map((t) => t.name ?? t.address), balance: health?.balance },
    `relayer listening on ${server.url}${health && !health.funded ? ` (its account ${key.address} holds too little ether: requests are refused with 503 until it is funded)` : ''}`,
  );
  onListening?.(server);
  await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  await server.close();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => controller.abort());
  runRelayer(process.env, controller.signal).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`relayer: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
