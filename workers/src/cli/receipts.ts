/**
 * Consent receipts on the command line (issue 8, item 4): an enrollment in a study and each of a
 * patient's clinical grants as a FHIR R4 `Consent`, each release of the patient's records that the
 * committee's gateways logged as a FHIR `AuditEvent` (sdk/src/receipts). Read-only: every fact comes
 * from the chain or the gateways' public logs, so a key is only a way to name the patient.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getAddress, isAddress, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { accessGrantsAbi, studyRegistryAbi } from '@consentry/sdk/abi/generated';
import { probeGateways, readCommittee } from '@consentry/sdk/access/release';
import { assertChain, publicClientFor } from '@consentry/sdk/clients';
import { loadConfig, type Config } from '@consentry/sdk/config';
import { readDeployment, type Deployment } from '@consentry/sdk/deployment';
import { ConsentryError } from '@consentry/sdk/errors';
import { enrollmentConsent, grantConsent, releaseAuditEvent, type AuditEventResource, type ConsentResource } from '@consentry/sdk/receipts/index';
import { studyAuditTrail, type AuditEvent } from '@consentry/sdk/research/audit';
import { UsageError } from './command.ts';
import { KEY_OPTIONS, privateKeyFrom } from './context.ts';

const SUBCOMMANDS = 'enrollment <studyId> --participant <address> | grants [--patient <address>] | releases [--patient <address>]';
/** The first port `npm start` gives a release gateway on the local chain (scripts/stack.ts: 4360 + i). */
const STACK_GATEWAY_PORT = 4360;
const LOG_PAGE = 1000;

type Resource = ConsentResource | AuditEventResource;

export async function runReceipts(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'enrollment') return runEnrollment(rest);
  if (sub === 'grants') return runGrants(rest);
  if (sub === 'releases') return runReleases(rest);
  throw new UsageError(sub ? `Unknown receipts command "${sub}": ${SUBCOMMANDS}` : `Say which receipts: ${SUBCOMMANDS}`);
}

interface Chain {
  config: Config;
  client: PublicClient;
  deployment: Deployment;
}

async function openChain(): Promise<Chain> {
  const config = loadConfig();
  const deployment = readDeployment(config.CHAIN_ID, config.DEPLOYMENTS_DIR);
  await assertChain(config.RPC_URL, config.CHAIN_ID);
  return { config, deployment, client: publicClientFor(config.RPC_URL, config.CHAIN_ID, { retryCount: 1 }) as PublicClient };
}

function addressOption(given: string | undefined, what: string): Address {
  if (given === undefined || !isAddress(given, { strict: false })) throw new UsageError(`${what} must be a 20-byte 0x address${given === undefined ? '' : `, not "${given}"`}`);
  return getAddress(given);
}

/** --patient, or the address of the key the record commands take (one of them). */
function patientFrom(values: { patient?: string; 'key-file'?: string; 'dev-account'?: string }, config: Config): Address {
  const keyGiven = values['key-file'] !== undefined || values['dev-account'] !== undefined || Boolean(process.env.CONSENTRY_PRIVATE_KEY?.trim());
  if (values.patient !== undefined) {
    if (values['key-file'] !== undefined || values['dev-account'] !== undefined) throw new UsageError('Give --patient or a key (--key-file, --dev-account), not both');
    return addressOption(values.patient, '--patient');
  }
  if (!keyGiven) throw new UsageError('Name the patient: --patient <address>, or a key (--key-file, --dev-account or CONSENTRY_PRIVATE_KEY)');
  return privateKeyToAccount(privateKeyFrom(values, config)).address;
}

/** Prints (or writes with --out) one resource as JSON, or several as a collection Bundle or NDJSON. */
function emit(resources: Resource | Resource[], values: { out?: string; ndjson?: boolean }): void {
  const text = Array.isArray(resources)
    ? values.ndjson
      ? resources.map((r) => `${JSON.stringify(r)}\n`).join('')
      : `${JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) }, null, 2)}\n`
    : `${JSON.stringify(resources, null, 2)}\n`;
  if (!values.out) {
    process.stdout.write(text);
    return;
  }
  const out = resolve(values.out);
  writeFileSync(out, text);
  const count = Array.isArray(resources) ? `${resources.length} receipt(s)` : 'the receipt';
  console.error(`receipts: wrote ${count} to ${out}`);
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

// ------------------------------------------------------------------------------------ enrollment

async function runEnrollment(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { participant: { type: 'string' }, out: { type: 'string' } }, allowPositionals: true, strict: true });
  const given = positionals[0];
  if (given === undefined || !/^[1-9]\d{0,29}$/.test(given)) throw new UsageError(`The study id must be a whole number from 1${given === undefined ? '' : `, not "${given}"`}`);
  const studyId = BigInt(given);
  const participant = addressOption(values.participant, '--participant (the study address that enrolled)');
  const { client, deployment, config } = await openChain();
  const c = deployment.contracts;
  if (!c.StudyRegistry || !c.ConsentToken || !c.StudyMarket) throw new ConsentryError('NO_MARKET', `The deployment of chain ${config.CHAIN_ID} has no research market`);
  // The audit trail is the chain's account of the study at one block: enrollment, IRB decisions, revocation.
  const trail = await studyAuditTrail(client, { StudyRegistry: c.StudyRegistry.address, ConsentToken: c.ConsentToken.address, StudyMarket: c.StudyMarket.address }, studyId, {
    fromBlock: BigInt(deployment.startBlock),
  });
  const of = <K extends AuditEvent['kind']>(kind: K) => trail.events.filter((e): e is Extract<AuditEvent, { kind: K }> => e.kind === kind);
  const enrolled = of('enrolled').find((e) => same(e.participant, participant));
  if (!enrolled) throw new ConsentryError('RECEIPT_NOT_ENROLLED', `${participant} has not enrolled in study #${studyId} (as of block ${trail.auditBlock})`);
  const approval = of('approved').filter((e) => e.seq < enrolled.seq).at(-1);
  if (!approval) throw new ConsentryError('RECEIPT_NO_APPROVAL', `Study #${studyId} has no IRB approval before the enrollment of ${participant}`);
  const revoked = of('revoked').find((e) => same(e.participant, participant));
  const study = await client.readContract({ address: c.StudyRegistry.address, abi: studyRegistryAbi, functionName: 'studyOf', args: [studyId], blockNumber: BigInt(trail.auditBlock) });
  const consent = enrollmentConsent(
    {
      chainId: trail.chainId,
      studyId,
      participant,
      consentHash: study.consentHash,
      protocolHash: study.protocolHash,
      categories: study.categories,
      enrolledAt: enrolled.timestamp,
      expiresAt: enrolled.expiresAt,
      transactionHash: enrolled.transactionHash,
      irbApproval: { irb: approval.irb, transactionHash: approval.transactionHash, decidedAt: approval.timestamp },
      researcher: study.researcher,
      revoked: revoked ? { at: revoked.timestamp, transactionHash: revoked.transactionHash } : null,
    },
    { asOf: trail.auditTime },
  );
  emit(consent, values);
}

// ---------------------------------------------------------------------------------------- grants

async function runGrants(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS, patient: { type: 'string' }, out: { type: 'string' }, ndjson: { type: 'boolean' } }, strict: true });
  const { client, deployment, config } = await openChain();
  const patient = patientFrom(values, config);
  const grants = deployment.contracts.AccessGrants?.address;
  if (!grants) throw new ConsentryError('NO_ACCESS_CONTRACTS', `The deployment of chain ${config.CHAIN_ID} has no AccessGrants`);
  const range = { address: grants, abi: accessGrantsAbi, fromBlock: BigInt(deployment.startBlock), args: { patient } } as const;
  const [approved, revoked, latest] = await Promise.all([
    client.getContractEvents({ ...range, eventName: 'RequestApproved' }),
    client.getContractEvents({ ...range, eventName: 'GrantRevoked' }),
    client.getBlock({ blockTag: 'latest' }),
  ]);
  const times = new Map<bigint, number>();
  for (const n of new Set([...approved, ...revoked].map((l) => l.blockNumber))) times.set(n, Number((await client.getBlock({ blockNumber: n })).timestamp));
  const consents = approved.map((l, i) => {
    const revocation = revoked.find((r) => r.args.requestId === l.args.requestId);
    // A later approval for the same grantee replaces this grant on chain (one grant per grantee).
    const replacement = approved.slice(i + 1).find((r) => same(r.args.grantee!, l.args.grantee!));
    const ended = revocation
      ? { at: times.get(revocation.blockNumber)!, transactionHash: revocation.transactionHash }
      : replacement
        ? { at: times.get(replacement.blockNumber)! }
        : null;
    return grantConsent(
      {
        chainId: config.CHAIN_ID,
        patient,
        grantee: l.args.grantee!,
        categories: l.args.categories!,
        purpose: l.args.purpose!,
        requestId: l.args.requestId!,
        grantedAt: times.get(l.blockNumber)!,
        expiresAt: l.args.expiresAt!,
        transactionHash: l.transactionHash,
        revoked: ended,
      },
      { asOf: latest.timestamp },
    );
  });
  console.error(`receipts: ${consents.length} grant(s) of ${patient} (as of block ${latest.number})`);
  emit(consents, values);
}

// -------------------------------------------------------------------------------------- releases

/** GATEWAY_URLS, or the gateways `npm start` runs for the local committee (said on stderr: stdout is the output). */
function gatewayUrls(members: number): string[] {
  const given = (process.env.GATEWAY_URLS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const url of given) if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`GATEWAY_URLS: ${JSON.stringify(url)} is not an http(s) URL`);
  if (given.length > 0) return given;
  const defaults = Array.from({ length: members }, (_, i) => `http://127.0.0.1:${STACK_GATEWAY_PORT + i}`);
  console.error(`receipts: GATEWAY_URLS is unset; using the local stack's ${defaults.join(', ')}`);
  return defaults;
}

interface LogPage {
  member: string;
  next: number;
  entries: Array<{ seq: number; id: Hex; requester: Hex; patient: Hex; recordId: Hex; version: number; category: string; purpose: number; releasedAt: number; batchRoot: Hex | null; proof: Hex[] | null }>;
}

/** Every entry of one gateway's public log (GET /log, paged). */
async function readLog(url: string): Promise<LogPage['entries']> {
  const all: LogPage['entries'] = [];
  for (let after = 0; ; ) {
    const res = await fetch(`${url}/log?after=${after}&limit=${LOG_PAGE}`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new ConsentryError('GATEWAY_REFUSED', `The gateway at ${url} answered ${res.status} to GET /log`);
    const page = (await res.json()) as LogPage;
    all.push(...page.entries);
    if (page.entries.length < LOG_PAGE) return all;
    after = page.next;
  }
}

async function runReleases(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS, patient: { type: 'string' }, out: { type: 'string' }, ndjson: { type: 'boolean' } }, strict: true });
  const { client, deployment, config } = await openChain();
  const patient = patientFrom(values, config);
  const committeeAddress = deployment.contracts.ReleaseCommittee?.address;
  if (!committeeAddress) throw new ConsentryError('NO_COMMITTEE', 'This deployment has no release committee, so nothing can have been released');
  const committee = await readCommittee(client, committeeAddress);
  const members = new Set(committee.members.map((m) => m.id.toLowerCase()));
  const probed = await probeGateways(gatewayUrls(committee.members.length));
  const refs = probed.refs.filter((r) => members.has(r.member.toLowerCase()));
  const down = [...probed.down, ...probed.refs.filter((r) => !refs.includes(r)).map((r) => `${r.url}: ${r.member} is not on the release committee`)];
  for (const d of down) console.error(`receipts: gateway ${d}`);
  if (refs.length === 0) throw new ConsentryError('NO_GATEWAY', 'No committee gateway answered: no release can be read (set GATEWAY_URLS)');
  const events: AuditEventResource[] = [];
  for (const ref of refs) {
    for (const e of await readLog(ref.url)) {
      if (!same(e.patient, patient)) continue;
      events.push(releaseAuditEvent({ ...e, member: ref.member }, { chainId: config.CHAIN_ID, gatewayUrl: ref.url }));
    }
  }
  events.sort((a, b) => a.recorded.localeCompare(b.recorded));
  const unproven = events.filter((e) => !e.entity.some((x) => x.detail?.some((d) => d.type === 'batch-root'))).length;
  console.error(
    `receipts: ${events.length} release(s) of ${patient}'s records from ${refs.length} of ${committee.members.length} gateways` +
      (unproven > 0 ? `; ${unproven} not yet under a posted root (no proof yet: run again later)` : '') +
      (down.length > 0 ? '; a gateway did not answer, so its releases are missing' : ''),
  );
  emit(events, values);
}
