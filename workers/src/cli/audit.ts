/**
 * The IRB's consent-trail audit on the command line (issue 8, item 3): `audit export` reads one
 * study's trail from the chain at one block and writes trail.csv and bundle.json; `audit verify`
 * checks a bundle offline (schema, SHA-256, the totals against the events) and then, unless
 * --offline, against the chain at the bundle's block. Reads only: no key is needed.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PublicClient } from 'viem';
import { publicClientFor } from '@consentry/sdk/clients';
import { loadConfig } from '@consentry/sdk/config';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConsentryError } from '@consentry/sdk/errors';
import { auditBundle, auditCsv, checkAuditTrail, studyAuditTrail, verifyAuditBundle, type AuditTotals, type AuditTrail } from '@consentry/sdk/research/audit';
import { UsageError } from './command.ts';

const SUBCOMMANDS = 'export <studyId> --out <dir> [--block <N>] | verify <bundle.json> [--offline]';

export async function runAudit(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'export') return runExport(rest);
  if (sub === 'verify') return runVerifyBundle(rest);
  throw new UsageError(sub ? `Unknown audit command "${sub}": ${SUBCOMMANDS}` : `Say what to do: ${SUBCOMMANDS}`);
}

function chainClient(): { client: PublicClient; chainId: number; rpcUrl: string; deploymentsDir: string } {
  const config = loadConfig();
  return {
    client: publicClientFor(config.RPC_URL, config.CHAIN_ID, { retryCount: 1 }) as PublicClient,
    chainId: config.CHAIN_ID,
    rpcUrl: config.RPC_URL,
    deploymentsDir: config.DEPLOYMENTS_DIR,
  };
}

const whole = (given: string | undefined, what: string, min: number): bigint => {
  if (given === undefined || !/^\d{1,30}$/.test(given) || BigInt(given) < BigInt(min)) throw new UsageError(`${what} must be a whole number from ${min}${given === undefined ? '' : `, not "${given}"`}`);
  return BigInt(given);
};

/** Writes a file whole or not at all. */
function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.partial`, text);
  renameSync(`${path}.partial`, path);
}

function totalsLines(t: AuditTotals): string[] {
  return [
    `  consents: ${t.enrolled} enrolled, ${t.revoked} revoked, ${t.expired} expired, ${t.active} active (${t.activeOnChain} active on chain)`,
    `  money (token units): paid ${t.paid} = claimed ${t.claimed} + claimable ${t.claimable} + refunded ${t.refunded} + escrowed ${t.escrowed}; ${t.purchases} purchase(s)`,
  ];
}

const heading = (trail: Pick<AuditTrail, 'studyId' | 'chainId' | 'auditBlock' | 'auditBlockHash' | 'auditTime' | 'events'>) =>
  `study ${trail.studyId} on chain ${trail.chainId} at block ${trail.auditBlock} (${trail.auditBlockHash}, ${new Date(trail.auditTime * 1000).toISOString()}): ${trail.events.length} events`;

async function runExport(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { out: { type: 'string' }, block: { type: 'string' } }, allowPositionals: true, strict: true });
  const studyId = whole(positionals[0], 'The study id', 1);
  if (!values.out) throw new UsageError('Say where to write the export: --out <dir>');
  const block = values.block === undefined ? undefined : whole(values.block, '--block', 0);
  const { client, chainId, deploymentsDir } = chainClient();
  const deployment = readDeployment(chainId, deploymentsDir);
  const c = deployment.contracts;
  if (!c.StudyRegistry || !c.ConsentToken || !c.StudyMarket) {
    throw new ConsentryError('NO_MARKET', `The deployment of chain ${chainId} has no research market (StudyRegistry, ConsentToken and StudyMarket)`);
  }
  const contracts = { StudyRegistry: c.StudyRegistry.address, ConsentToken: c.ConsentToken.address, StudyMarket: c.StudyMarket.address };
  const trail = await studyAuditTrail(client, contracts, studyId, { fromBlock: BigInt(deployment.startBlock), ...(block === undefined ? {} : { blockNumber: block }) });
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  writeAtomically(join(out, 'trail.csv'), auditCsv(trail));
  writeAtomically(join(out, 'bundle.json'), `${JSON.stringify(auditBundle(trail), null, 2)}\n`);
  console.log(`audit: ${heading(trail)}`);
  for (const line of totalsLines(trail.totals)) console.log(line);
  console.log(`  wrote ${join(out, 'trail.csv')} and ${join(out, 'bundle.json')}`);
  // Written either way: a trail that does not reconcile is itself the IRB's finding.
  const problems = checkAuditTrail(trail);
  for (const p of problems) console.error(`FAIL ${p}`);
  if (problems.length > 0) {
    console.error(`audit: the totals of study ${trail.studyId} do not reconcile (${problems.length} problem(s))`);
    process.exitCode = 1;
  }
}

async function runVerifyBundle(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { offline: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (!positionals[0]) throw new UsageError('Name the bundle: consentry audit verify <bundle.json>');
  const path = resolve(positionals[0]);
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConsentryError('AUDIT_BUNDLE_UNREADABLE', `Cannot read ${path} as JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const report = await verifyAuditBundle(input, values.offline ? {} : { client: chainClient().client });
  for (const p of report.problems) console.error(`FAIL ${p}`);
  if (!report.ok) {
    console.error(`verify: ${report.problems.length} problem(s); this audit bundle cannot be trusted`);
    process.exitCode = 1;
    return;
  }
  const b = report.bundle!;
  const how = report.chainChecked ? `checked offline and against the chain at block ${b.auditBlock}` : 'checked offline only (--offline): not compared with the chain';
  console.log(`verify: OK · ${heading(b)} · ${how}`);
  for (const line of totalsLines(b.totals)) console.log(line);
}
