/**
 * Brings up the embedded Consentry stack: anvil (unless RPC_URL is set), the contracts
 * (deployed idempotently), the indexer with its GraphQL endpoint, the release gateways, the record
 * anchorer, the credential issuer, the gasless relayer, and the web app.
 * Used by `npm start` (scripts/start.mjs → scripts/stack-cli.ts) and by the e2e tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { assertChain } from '@consentry/sdk/clients';
import { loadConfig, REPO_ROOT, type Config } from '@consentry/sdk/config';
import { ConsentryError } from '@consentry/sdk/errors';
import { freePort, portInUse } from '@consentry/sdk/net';
import { ANVIL_ACCOUNTS, startAnvil, type AnvilInstance } from '@consentry/sdk/testing/anvil';
import { deployContracts, type DeployResult } from '../contracts/script/deploy.ts';
import { ensureLocalAccreditor } from './accreditor.ts';
import { ensureLocalCommittee } from './committee.ts';
import { ensureLocalIssuer } from './issuer.ts';
import { fundLocalRelayer, loadRelayerKey } from '../workers/src/relayer/key.ts';

export interface StackOptions {
  /** Environment overrides on top of process.env (RPC_URL, DATABASE_URL, ports, ...). */
  env?: Record<string, string | undefined>;
  /** Pick free ports for anvil, the indexer and the web app (tests). */
  ephemeralPorts?: boolean;
  /** Seconds between anvil blocks (default 1). */
  blockTime?: number;
  log?: (line: string) => void;
  /** Start the web app (default true); tests of the services alone leave it out. */
  web?: boolean;
}

export interface Stack {
  config: Config;
  deployment: DeployResult;
  rpcUrl: string;
  graphqlUrl: string;
  webUrl: string;
  env: Record<string, string>;
  /** The running services' processes, by name (`gateway 1`, `indexer`, …): for operators and tests. */
  processes(): Array<{ name: string; pid: number | undefined }>;
  stop(): Promise<void>;
}

export class StackError extends ConsentryError {}

interface Service {
  name: string;
  child: ChildProcess;
  output: string[];
  args: string[];
  env: Record<string, string>;
  /** Set by stopService: an exit from now on is wanted, not a crash. */
  stopping?: boolean;
  /** Restarts after crashes so far (each waits longer, up to 30 s). */
  restarts: number;
  log: (l: string) => void;
}

const TSX = ['--import', 'tsx'];

function startChild(s: Service): void {
  s.child = spawn(process.execPath, s.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...s.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const keep = (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      s.output.push(line);
      if (s.output.length > 40) s.output.shift();
      if (process.env.CONSENTRY_VERBOSE) s.log(`[${s.name}] ${line}`);
    }
  };
  s.child.stdout?.on('data', keep);
  s.child.stderr?.on('data', keep);
}

/** Spawns a service in its own process group, keeping the last lines of its output for errors. */
function spawnService(name: string, args: string[], env: Record<string, string>, log: (l: string) => void): Service {
  const s = { name, args, env, log, output: [] as string[], restarts: 0 } as unknown as Service;
  startChild(s);
  return s;
}

/**
 * Once the stack is up, a service that exits on its own (a crash, a kill -9) is started again after
 * 1 s, then 2, 4 … up to 30 s if it keeps failing, and says so with its last lines of output. A
 * gateway comes back with its log (written before every release) intact.
 */
function supervise(s: Service, log: (l: string) => void): void {
  const watch = () => {
    const child = s.child;
    const upSince = Date.now();
    child.once('exit', (code, signal) => {
      if (s.stopping) return;
      if (Date.now() - upSince > 60_000) s.restarts = 0;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(s.restarts, 5));
      s.restarts++;
      log(`${s.name} exited (${signal ?? `code ${code}`}); starting it again in ${delay / 1000} s. Its last output:\n  ${s.output.slice(-5).join('\n  ')}`);
      setTimeout(() => {
        if (s.stopping) return;
        startChild(s);
        watch();
      }, delay).unref();
    });
  };
  watch();
}

async function stopService(s: Service): Promise<void> {
  s.stopping = true;
  const { child } = s;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, 8000);
  await exited;
  clearTimeout(timer);
}

/** Polls `url` until it answers 2xx, or fails naming the service and its last output. */
async function waitForHttp(url: string, service: Service, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.child.exitCode !== null) {
      throw new StackError(
        'SERVICE_EXITED',
        `The ${service.name} stopped at start-up (exit ${service.child.exitCode}):\n${service.output.slice(-15).join('\n')}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      throw new StackError(
        'SERVICE_TIMEOUT',
        `The ${service.name} did not answer on ${url} within ${timeoutMs / 1000} s:\n${service.output.slice(-15).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function assertPortFree(port: number, what: string, variable: string): Promise<void> {
  if (await portInUse(port)) {
    throw new StackError(
      'PORT_TAKEN',
      `Port ${port} (${what}) is already in use. Stop what is using it, or choose another port with ${variable}=<port>.`,
    );
  }
}

/** Builds what the stack runs from when it is missing or older than its sources. */
export function buildIfNeeded(log: (l: string) => void): void {
  const run = (what: string, args: string[]) => {
    log(`building ${what} ...`);
    const r = spawnSync('npm', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new StackError('BUILD_FAILED', `Building ${what} failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  };
  run('contracts', ['run', 'build:contracts', '--silent']);
  const webBuild = join(REPO_ROOT, 'web', 'build', 'server', 'index.js');
  const builtAt = existsSync(webBuild) ? statSync(webBuild).mtimeMs : 0;
  const sourcesAt = Math.max(
    newestMtime(join(REPO_ROOT, 'web', 'app')),
    newestMtime(join(REPO_ROOT, 'sdk', 'src')),
    newestMtime(join(REPO_ROOT, 'workers', 'src', 'records')),
  );
  if (sourcesAt > builtAt) {
    run('the web app', ['run', 'build', '-w', '@consentry/web', '--silent']);
  }
}

/** The newest modification time of any file under `dir` (0 if it does not exist). */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((newest, e) => Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs), 0);
}

/** Starts everything; the returned `stop()` brings it all down (web, indexer, then anvil). */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const baseEnv = { ...process.env, ...opts.env };
  if (opts.ephemeralPorts) {
    baseEnv.ANVIL_PORT = String(await freePort());
    baseEnv.INDEXER_PORT = String(await freePort());
    baseEnv.WEB_PORT = String(await freePort());
    baseEnv.ISSUER_PORT = String(await freePort());
  }
  const config = loadConfig(baseEnv);
  mkdirSync(config.DATA_DIR, { recursive: true });
  const services: Service[] = [];
  let anvil: AnvilInstance | undefined;
  const stop = async () => {
    for (const s of services.reverse()) await stopService(s);
    await anvil?.stop();
  };

  try {
    let rpcUrl = config.RPC_URL;
    const externalRpc = Boolean(baseEnv.RPC_URL);
    if (!externalRpc) {
      await assertPortFree(config.ANVIL_PORT, 'local chain', 'ANVIL_PORT');
      anvil = await startAnvil({
        port: config.ANVIL_PORT,
        chainId: config.CHAIN_ID,
        blockTime: opts.blockTime ?? 1,
        stateFile: join(config.DATA_DIR, 'anvil-state.json'),
      });
      rpcUrl = anvil.rpcUrl;
      log(`chain: anvil on ${rpcUrl} (chain ${config.CHAIN_ID}, state in ${join(config.DATA_DIR, 'anvil-state.json')})`);
    } else {
      await assertChain(rpcUrl, config.CHAIN_ID);
      log(`chain: ${rpcUrl} (RPC_URL, chain ${config.CHAIN_ID})`);
    }
    await assertPortFree(config.INDEXER_PORT, 'indexer', 'INDEXER_PORT');
    // The web app's port only matters when it is started (the demo's test runs the stack without it).
    if (opts.web !== false) await assertPortFree(config.WEB_PORT, 'web app', 'WEB_PORT');
    if (!config.ISSUER_URL) await assertPortFree(config.ISSUER_PORT, 'credential issuer', 'ISSUER_PORT');

    const privateKey = (config.DEPLOYER_PRIVATE_KEY as Hex | undefined) ??
      (config.CHAIN_ID === 31337 ? ANVIL_ACCOUNTS[0]!.privateKey : undefined);
    if (!privateKey) throw new StackError('CONFIG_INVALID', 'DEPLOYER_PRIVATE_KEY is required outside the local chain (31337).');
    const deployment = await deployContracts({
      rpcUrl,
      privateKey,
      chainId: config.CHAIN_ID,
      deploymentsDir: config.DEPLOYMENTS_DIR,
      log: (l) => log(`contracts: ${l}`),
    });

    const env: Record<string, string> = Object.fromEntries(
      Object.entries({ ...baseEnv, RPC_URL: rpcUrl }).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const graphqlUrl = config.SUBGRAPH_URL ?? `http://127.0.0.1:${config.INDEXER_PORT}/graphql`;
    if (!config.SUBGRAPH_URL) {
      const indexer = spawnService('indexer', [...TSX, 'workers/src/indexer/main.ts'], env, log);
      services.push(indexer);
      await waitForHttp(`http://127.0.0.1:${config.INDEXER_PORT}/health`, indexer, 60_000);
      log(`indexer: GraphQL on ${graphqlUrl} (${config.DATABASE_URL ? 'PostgreSQL' : `SQLite in ${config.DATA_DIR}`})`);
    } else {
      log(`index: ${graphqlUrl} (SUBGRAPH_URL)`);
    }

    // The release committee: on the local chain three members (k = 2), each behind its gateway.
    const gatewayUrls: string[] = [];
    if (config.CHAIN_ID === 31337) {
      const members = await ensureLocalCommittee({ rpcUrl, deployment, deployerKey: privateKey, dataDir: config.DATA_DIR, log });
      for (const [i, m] of members.entries()) {
        const port = opts.ephemeralPorts ? await freePort() : 4360 + i;
        const gateway = spawnService(`gateway ${i + 1}`, [...TSX, 'workers/src/gateway/main.ts'], { ...env, GATEWAY_KEY_FILE: m.file, GATEWAY_PORT: String(port) }, log);
        services.push(gateway);
        gatewayUrls.push(`http://127.0.0.1:${port}`);
        await waitForHttp(`http://127.0.0.1:${port}/health`, gateway, 60_000);
      }
      if (members.length > 0) log(`gateways: ${members.length} release gateways (k = 2) on ${gatewayUrls.join(', ')}`);
      await ensureLocalAccreditor({ rpcUrl, deployment, deployerKey: privateKey, log });
    }
    env.GATEWAY_URLS = gatewayUrls.join(',');

    // The credential issuer (a clinic's service; docs/decisions/019): one of our own unless ISSUER_URL
    // names one run elsewhere. On the local chain its key is accredited in IssuerRegistry here.
    if (config.ISSUER_URL) {
      env.ISSUER_URL = config.issuerUrl;
      log(`issuer: ${config.issuerUrl} (ISSUER_URL)`);
    } else if (deployment.contracts.IssuerRegistry) {
      if (config.CHAIN_ID === 31337) await ensureLocalIssuer({ rpcUrl, deployment, deployerKey: privateKey, dataDir: config.DATA_DIR, issuerSecret: baseEnv.ISSUER_PRIVATE_KEY, log });
      const issuer = spawnService('issuer', [...TSX, 'workers/src/issuer/main.ts'], env, log);
      services.push(issuer);
      await waitForHttp(`${config.issuerUrl}/health`, issuer, 60_000);
      env.ISSUER_URL = config.issuerUrl;
      log(`issuer: credentials on ${config.issuerUrl}${config.CHAIN_ID === 31337 ? ' (accredited on the local chain)' : ' (signs once an issuer accreditor adds its key to IssuerRegistry)'}`);
    }

    // The gasless relayer (docs/decisions/024): pays the gas of enrollments, revocations and claims
    // that participants' study addresses sign, through the deployment's Forwarder. Its own account
    // (RELAYER_PRIVATE_KEY or DATA_DIR/relayer/key.json), topped up from the deployer on the local
    // chain before the anchorer starts sending from the deployer's account.
    if (deployment.contracts.Forwarder) {
      const relayerPort = opts.ephemeralPorts ? await freePort() : Number(baseEnv.RELAYER_PORT || 4380);
      const relayerKey = loadRelayerKey({ privateKey: baseEnv.RELAYER_PRIVATE_KEY, dataDir: config.DATA_DIR });
      if (config.CHAIN_ID === 31337) await fundLocalRelayer({ rpcUrl, chainId: config.CHAIN_ID, funderKey: privateKey, address: relayerKey.address });
      const relayerUrl = `http://127.0.0.1:${relayerPort}`;
      const relayer = spawnService('relayer', [...TSX, 'workers/src/relayer/main.ts'], { ...env, RELAYER_PORT: String(relayerPort) }, log);
      services.push(relayer);
      await waitForHttp(`${relayerUrl}/health`, relayer, 60_000);
      env.RELAYER_URL = relayerUrl;
      log(`relayer: gasless enrollment, revocation and claims on ${relayerUrl} (its account ${relayerKey.address})`);
    }

    // Anchors what the web app stores; no port, nothing to wait for.
    services.push(spawnService('anchorer', [...TSX, 'workers/src/records/anchor-worker.ts'], env, log));
    log('anchorer: anchoring pending record versions every 5 s (ANCHOR_INTERVAL_MS)');

    // The access log: follows the gateways' release logs into the index, delivers patients' webhooks.
    services.push(spawnService('access log', [...TSX, 'workers/src/notify/main.ts'], env, log));
    log(`access log: following ${gatewayUrls.length} gateway log(s) into the index; webhooks for new access events`);

    const webUrl = `http://127.0.0.1:${config.WEB_PORT}`;
    if (opts.web !== false) {
      const web = spawnService('web app', [join('web', 'server.mjs')], { ...env, HOST: '127.0.0.1', PORT: String(config.WEB_PORT) }, log);
      services.push(web);
      await waitForHttp(`${webUrl}/`, web, 60_000);
    }
    for (const s of services) supervise(s, log);
    const processes = () => services.map((s) => ({ name: s.name, pid: s.child.pid }));
    return { config, deployment, rpcUrl, graphqlUrl, webUrl, env, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
