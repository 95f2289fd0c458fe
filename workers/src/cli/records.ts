/**
 * The record commands: import, records (list, show), correct, erase, anchor, export, verify.
 * All of them run as the patient's own client: the key never leaves this process.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { privateKeyToAccount } from 'viem/accounts';
import { DecryptionError } from '@consentry/sdk/crypto/envelope';
import { readDeployment } from '@consentry/sdk/deployment';
import { ConsentryError } from '@consentry/sdk/errors';
import { CATEGORIES, type Category } from '@consentry/sdk/records/categories';
import { describeResource } from '@consentry/sdk/records/describe';
import { loadFhirDefinitions, parseFhirInput, type FhirResource } from '@consentry/sdk/records/fhir';
import { loadConfig } from '@consentry/sdk/config';
import { readCommittee } from '@consentry/sdk/access/release';
import { publicClientFor } from '@consentry/sdk/clients';
import { exportRecords, readExport, verifyExport } from '../records/export.ts';
import { anchorPending } from '../records/service.ts';
import { UsageError } from './command.ts';
import { KEY_OPTIONS, patientContext, resolveRecordId, type PatientContext } from './context.ts';

const n = (x: number) => x.toLocaleString('en-US');
const short = (id: string) => `${id.slice(0, 10)}…${id.slice(-4)}`;

async function withPatient<T>(values: { 'key-file'?: string; 'dev-account'?: string }, run: (ctx: PatientContext) => Promise<T>): Promise<T> {
  const ctx = await patientContext(values);
  try {
    return await run(ctx);
  } catch (err) {
    // A wallet a recovery moved the account to holds another key until it rotates (decision 031).
    if (err instanceof DecryptionError && ctx.patient.toLowerCase() !== privateKeyToAccount(ctx.privateKey).address.toLowerCase()) {
      throw new ConsentryError('KEY_NOT_ROTATED', `${err.message}. These records are sealed to your account's earlier key: after a recovery, run \`consentry keys rotate\` with this wallet first`, { cause: err });
    }
    throw err;
  } finally {
    await ctx.close();
  }
}

/** FHIR files under a path: the file itself, or every .json/.ndjson in the folder (sorted). */
function inputFiles(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new UsageError(`No such file or folder: ${path}`);
  }
  if (stat.isFile()) return [path];
  const files = readdirSync(path)
    .filter((f) => /\.(json|ndjson|jsonl)$/i.test(f))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0) throw new UsageError(`${path} holds no .json or .ndjson files`);
  return files;
}

function progressLine(label: string, done: number, total: number, started: number, extra: string): string {
  const width = 24;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const rate = done / Math.max((performance.now() - started) / 1000, 1e-3);
  return `${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${n(done)}/${n(total)} · ${n(Math.round(rate))}/s${extra ? ` · ${extra}` : ''}`;
}

function progressWriter() {
  const tty = process.stderr.isTTY;
  return {
    update(line: string) {
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

async function tryAnchor(ctx: PatientContext, quiet = false): Promise<void> {
  let deployment;
  try {
    deployment = readDeployment(ctx.config.CHAIN_ID, ctx.config.DEPLOYMENTS_DIR);
  } catch (err) {
    throw new ConsentryError('ANCHOR_NO_DEPLOYMENT', `Cannot anchor: ${err instanceof Error ? err.message : String(err)}`);
  }
  const result = await anchorPending({
    vault: ctx.vault,
    blobs: ctx.blobs,
    rpcUrl: ctx.config.RPC_URL,
    privateKey: ctx.privateKey,
    deployment,
    patient: ctx.patient,
    onBatch: (b) => {
      if (!quiet) console.log(`anchored ${n(b.leaves)} versions under root ${b.root} (tx ${b.txHash})`);
    },
  });
  // The anchor worker of `npm start` may have anchored some of them meanwhile: say where things stand.
  const left = (await ctx.vault.pending(1, ctx.patient)).length;
  const state = left === 0 ? 'every version of yours has its inclusion proof' : 'some versions are still pending; run `consentry anchor` again';
  console.log(result.versions === 0 ? `anchor: nothing to send; ${state}` : `anchor: ${n(result.versions)} versions anchored in ${result.batches} batch(es); ${state}`);
}

/** Splits the data key of every version not yet shared with the committee's current epoch. */
async function shareWithCommittee(ctx: PatientContext): Promise<void> {
  const deployment = readDeployment(ctx.config.CHAIN_ID, ctx.config.DEPLOYMENTS_DIR);
  const address = deployment.contracts.ReleaseCommittee?.address;
  if (!address) throw new ConsentryError('NO_COMMITTEE', 'This deployment has no release committee');
  const committee = await readCommittee(publicClientFor(ctx.config.RPC_URL, ctx.config.CHAIN_ID, { retryCount: 1 }), address);
  if (committee.members.length === 0) throw new ConsentryError('NO_COMMITTEE', 'The release committee has no members yet');
  const shared = await ctx.records.shareWithCommittee(committee);
  console.log(`share: ${n(shared)} versions split ${committee.threshold}-of-${committee.members.length} to the release committee (epoch ${committee.epoch})`);
}

export async function runShare(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS }, strict: true });
  await withPatient(values, (ctx) => shareWithCommittee(ctx));
}

export async function runImport(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS, 'no-anchor': { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length === 0) throw new UsageError('Name a FHIR file or a folder of them');
  const files = positionals.flatMap((p) => inputFiles(resolve(p)));
  await withPatient(values, async (ctx) => {
    const progress = progressWriter();
    process.stderr.write('import: loading the FHIR R4 definitions…\n');
    loadFhirDefinitions();
    const resources: FhirResource[] = [];
    const errors: Array<{ location: string; reason: string }> = [];
    let started = performance.now();
    files.forEach((file, i) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        errors.push({ location: basename(file), reason: `cannot read (${err instanceof Error ? err.message : String(err)})` });
        return;
      }
      const parsed = parseFhirInput(text, basename(file));
      for (const r of parsed.resources) resources.push(r.resource);
      errors.push(...parsed.errors);
      progress.update(progressLine('validate', i + 1, files.length, started, `${n(resources.length)} valid, ${n(errors.length)} rejected`));
    });
    progress.end();
    started = performance.now();
    const result = await ctx.records.importResources(resources, (p) =>
      progress.update(progressLine('import  ', p.done, p.total, started, `stored ${n(p.stored)}, unchanged ${n(p.unchanged)}`)),
    );
    progress.end();
    const seconds = (performance.now() - started) / 1000;
    for (const e of errors.slice(0, 100)) console.error(`rejected ${e.location}: ${e.reason}`);
    if (errors.length > 100) console.error(`… and ${n(errors.length - 100)} more rejected resources`);
    console.log(
      `import: ${n(resources.length + errors.length)} resources read from ${files.length} file(s): ` +
        `${n(result.stored)} stored (${n(result.changed)} as new versions), ${n(result.unchanged)} already stored, ` +
        `${n(result.skippedErased)} skipped (erased), ${n(errors.length)} rejected; ` +
        `${seconds.toFixed(1)} s, ${n(Math.round(result.done / Math.max(seconds, 1e-3)))} resources/s`,
    );
    if (!values['no-anchor']) {
      try {
        await tryAnchor(ctx, true);
      } catch (err) {
        console.error(`import: not anchored yet (${err instanceof Error ? err.message : String(err)}); run \`consentry anchor\` when the chain is up`);
      }
      try {
        await shareWithCommittee(ctx);
      } catch (err) {
        console.error(`import: not shared with the release committee yet (${err instanceof Error ? err.message : String(err)}); run \`consentry share\` later`);
      }
    }
    if (errors.length > 0 && result.stored + result.unchanged === 0) process.exitCode = 1;
  });
}

export async function runRecords(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...KEY_OPTIONS,
      category: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      history: { type: 'boolean' },
      version: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [sub, id] = positionals;
  if (sub !== 'list' && sub !== 'show') throw new UsageError('Say `records list` or `records show <id>`');
  if (values.category && !CATEGORIES.includes(values.category as Category)) {
    throw new UsageError(`--category must be one of ${CATEGORIES.join(', ')}`);
  }
  await withPatient(values, async (ctx) => {
    if (sub === 'list') {
      const all = await ctx.records.list(values.category ? { category: values.category as Category } : {});
      if (values.json) {
        console.log(JSON.stringify(all.map((r) => ({ recordId: r.recordId, resourceType: r.resourceType, category: r.category, version: r.latest.version, versions: r.versions, anchored: r.latest.batchRoot !== null, erased: r.erased ? { at: new Date(r.erased.erasedAt).toISOString(), reason: ctx.records.note(r.erased.reason) } : null }))));
        return;
      }
      const shown = values.all ? all : all.slice(0, 50);
      for (const r of shown) {
        let what = '';
        if (r.erased) what = `ERASED ${new Date(r.erased.erasedAt).toISOString().slice(0, 10)}: ${ctx.records.note(r.erased.reason)}`;
        else {
          const d = describeResource((await ctx.records.read(r.recordId)).resource);
          what = [d.title, d.detail, d.date.slice(0, 10)].filter(Boolean).join(' · ');
        }
        console.log(`${short(r.recordId)}  ${r.category.padEnd(13)} ${r.resourceType.padEnd(20)} v${r.latest.version} ${r.latest.batchRoot ? 'anchored' : 'pending '}  ${what}`);
      }
      const anchored = all.filter((r) => r.latest.batchRoot).length;
      console.log(`${n(all.length)} records (${n(anchored)} anchored, ${n(all.filter((r) => r.erased).length)} erased)${shown.length < all.length ? `; showing ${shown.length}, --all for every one` : ''}`);
      return;
    }
    const recordId = await resolveRecordId(ctx, id);
    const history = await ctx.records.history(recordId);
    const erasure = (await ctx.vault.erasures(ctx.patient)).get(recordId);
    const wanted = values.version !== undefined ? [Number(values.version)] : values.history ? history.map((h) => h.version) : [history.at(-1)!.version];
    for (const version of wanted) {
      const row = history.find((h) => h.version === version);
      if (!row) throw new UsageError(`Record ${short(recordId)} has no version ${version} (it has 1 to ${history.length})`);
      console.log(`# ${row.resourceType} ${recordId} version ${row.version} of ${history.length} · ${row.category} · ${new Date(row.createdAt).toISOString()}`);
      if (row.reason) console.log(`# reason: ${ctx.records.note(row.reason)}`);
      console.log(`# cid ${row.cid} · ${row.batchRoot ? `anchored under ${row.batchRoot}` : 'not anchored yet'}`);
      if (erasure) console.log(`# ERASED ${new Date(erasure.erasedAt).toISOString()}: ${ctx.records.note(erasure.reason)} (content unrecoverable)`);
      else console.log(JSON.stringify((await ctx.records.read(recordId, row.version)).resource, null, 2));
    }
  });
}

export async function runCorrect(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS, file: { type: 'string' }, reason: { type: 'string' } }, allowPositionals: true, strict: true });
  if (!values.file) throw new UsageError('--file <resource.json> with the corrected resource is required');
  if (!values.reason) throw new UsageError('--reason <text> is required (why the record is corrected)');
  const parsed = parseFhirInput(readFileSync(resolve(values.file), 'utf8'), basename(values.file));
  if (parsed.errors.length > 0) throw new ConsentryError('CORRECTION_INVALID', `The corrected resource is not valid FHIR R4: ${parsed.errors.map((e) => `${e.location}: ${e.reason}`).join('; ')}`);
  if (parsed.resources.length !== 1) throw new UsageError('--file must hold exactly one resource');
  await withPatient(values, async (ctx) => {
    const recordId = await resolveRecordId(ctx, positionals[0]);
    const row = await ctx.records.correct(recordId, parsed.resources[0]!.resource, values.reason!);
    console.log(`correct: ${row.resourceType} ${recordId} is now version ${row.version} (supersedes ${row.supersedes}); run \`consentry anchor\` to anchor it`);
  });
}

export async function runErase(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { ...KEY_OPTIONS, reason: { type: 'string' }, yes: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (!values.reason) throw new UsageError('--reason <text> is required (it is kept with the erasure)');
  if (!values.yes) throw new UsageError('Erasure cannot be undone: every data key of the record is destroyed. Add --yes to confirm');
  await withPatient(values, async (ctx) => {
    const recordId = await resolveRecordId(ctx, positionals[0]);
    const e = await ctx.records.erase(recordId, values.reason!);
    console.log(`erase: record ${recordId} erased at ${new Date(e.erasedAt).toISOString()} (${ctx.records.note(e.reason)}); its content is unrecoverable, its anchored hashes still verify`);
  });
}

export async function runAnchor(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS }, strict: true });
  await withPatient(values, (ctx) => tryAnchor(ctx));
}

export async function runExport(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { ...KEY_OPTIONS, out: { type: 'string' }, zip: { type: 'boolean' }, 'encrypted-only': { type: 'boolean' } }, strict: true });
  if (!values.out) throw new UsageError('--out <dir> is required');
  const out = resolve(values.out);
  if (statSafe(out)?.isDirectory() && readdirSync(out).length > 0) throw new UsageError(`${out} is not empty; choose a new folder`);
  await withPatient(values, async (ctx) => {
    const progress = progressWriter();
    const started = performance.now();
    const result = await exportRecords({
      vault: ctx.vault,
      blobs: ctx.blobs,
      patient: ctx.patient,
      out,
      zip: Boolean(values.zip),
      ...(values['encrypted-only'] ? {} : { secretKey: ctx.keys.secretKey }),
      onProgress: (done, total) => {
        if (done === total || done % 500 === 0) progress.update(progressLine('export', done, total, started, ''));
      },
    });
    progress.end();
    console.log(`export: ${n(result.records)} records, ${n(result.versions)} versions → ${result.dir}${result.zip ? ` and ${result.zip}` : ''}`);
    if (result.unanchored > 0) console.log(`export: ${n(result.unanchored)} versions are not anchored yet (run \`consentry anchor\`, then export again to include their proofs)`);
  });
}

function statSafe(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export async function runVerify(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { rpc: { type: 'boolean' }, 'rpc-url': { type: 'string' } }, allowPositionals: true, strict: true });
  if (!positionals[0]) throw new UsageError('Name the export folder or .zip');
  const rpcUrl = values['rpc-url'] ?? (values.rpc ? loadConfig().RPC_URL : undefined);
  const report = await verifyExport(readExport(resolve(positionals[0])), rpcUrl ? { rpcUrl } : {});
  for (const w of report.warnings.slice(0, 20)) console.log(`warning: ${w}`);
  for (const p of report.problems) {
    const who = p.recordId ? `record ${p.resourceType ?? ''} ${p.recordId}${p.version !== undefined ? ` version ${p.version}` : ''}` : 'export';
    console.error(`FAIL ${who.replace(/\s+/g, ' ')}: ${p.problem}`);
  }
  const onChain = rpcUrl ? `, ${report.rootsOnChain} root(s) confirmed on chain` : '';
  if (report.problems.length > 0) {
    console.error(`verify: ${report.problems.length} problem(s) in ${report.records} records; this export cannot be trusted`);
    process.exitCode = 1;
    return;
  }
  console.log(`verify: OK · ${n(report.records)} records, ${n(report.versions)} versions, ${n(report.anchoredVersions)} with valid inclusion proofs${onChain}`);
}
