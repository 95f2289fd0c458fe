/**
 * The `consentry` command line (`npm run consentry -- <command>`; scripts/consentry.mjs runs this file).
 * Commands arrive with their capabilities; each has --help. Errors are printed in words, never as stacks.
 */
import '@consentry/sdk/polyfills';
import { ConsentryError } from '@consentry/sdk/errors';
import { KEY_USAGE, UsageError, type Command } from './command.ts';

// Command modules load only when their command runs: `consentry --help` stays instant.
const COMMANDS: Record<string, Command> = {
  synth: {
    summary: 'Write synthetic FHIR R4 bundles (never real patients), deterministic from a seed',
    usage: 'consentry synth --patients <N> [--seed <S>] --out <dir>',
    load: () => import('./synth.ts').then((m) => m.runSynth),
  },
  import: {
    summary: 'Import FHIR R4 (Bundles or NDJSON) into your encrypted records; resumable and idempotent',
    usage: `consentry import <file|dir>... [--no-anchor] ${KEY_USAGE}`,
    load: () => import('./records.ts').then((m) => m.runImport),
  },
  records: {
    summary: 'List your records (`records list`) or show one (`records show <id> [--history]`)',
    usage: `consentry records list [--category <c>] [--all] [--json] | records show <id> [--history] [--version <n>] ${KEY_USAGE}`,
    load: () => import('./records.ts').then((m) => m.runRecords),
  },
  correct: {
    summary: 'Correct a record: a new version that supersedes the current one (history is kept)',
    usage: `consentry correct <id> --file <resource.json> --reason <text> ${KEY_USAGE}`,
    load: () => import('./records.ts').then((m) => m.runCorrect),
  },
  erase: {
    summary: 'Erase a record by destroying its data keys (crypto-shredding); its anchored hash stays',
    usage: `consentry erase <id> --reason <text> --yes ${KEY_USAGE}`,
    load: () => import('./records.ts').then((m) => m.runErase),
  },
  anchor: {
    summary: 'Anchor your pending record versions on chain (one transaction per batch of up to 1024)',
    usage: `consentry anchor ${KEY_USAGE}`,
    load: () => import('./records.ts').then((m) => m.runAnchor),
  },
  share: {
    summary: 'Share your records\' data keys with the release committee (k-of-n); run again after a committee change',
    usage: `consentry share ${KEY_USAGE}`,
    load: () => import('./records.ts').then((m) => m.runShare),
  },
  export: {
    summary: 'Export your records to a folder (and .zip) that verifies offline, with a readable summary',
    usage: `consentry export --out <dir> [--zip] [--encrypted-only] ${KEY_USAGE}`,
    load: () => import('./records.ts').then((m) => m.runExport),
  },
  verify: {
    summary: 'Verify an export offline (every hash and proof); with --rpc, also its roots on chain',
    usage: 'consentry verify <dir|zip> [--rpc] [--rpc-url <url>]   (--rpc uses RPC_URL)',
    load: () => import('./records.ts').then((m) => m.runVerify),
  },
  studies: {
    summary: 'List the studies: status, title, price per participant, active participants and k',
    usage: 'consentry studies [--json]',
    load: () => import('./market.ts').then((m) => m.runStudies),
  },
  buy: {
    summary: 'Buy a study\'s active cohort and write its extracts as FHIR (quotes only, without --yes)',
    usage: `consentry buy <studyId> --out <dir> [--faucet] [--yes] ${KEY_USAGE}   (gateways from GATEWAY_URLS)`,
    load: () => import('./market.ts').then((m) => m.runBuy),
  },
  release: {
    summary: 'Fetch a purchase you made again from the committee (confirms it while pending) and write its extracts',
    usage: `consentry release <purchaseId> --out <dir> ${KEY_USAGE}   (gateways from GATEWAY_URLS)`,
    load: () => import('./market.ts').then((m) => m.runRelease),
  },
  refund: {
    summary: 'Refund a purchase the committee did not confirm, once its deadline has passed',
    usage: `consentry refund <purchaseId> ${KEY_USAGE}`,
    load: () => import('./market.ts').then((m) => m.runRefund),
  },
  guardians: {
    summary: 'Your account\'s guardians: show them, name them (t of m, a first set at once, a change after 48 h), apply or withdraw a change',
    usage: `consentry guardians show [<account>] | guardians set <address,...> --threshold <t> [--delay 48h] | guardians apply [<account>] | guardians cancel ${KEY_USAGE}`,
    load: () => import('./recovery.ts').then((m) => m.runGuardians),
  },
  recovery: {
    summary: 'Recover an account whose wallet is lost: status, start and approve (guardians), cancel (the old wallet), complete, release a guardian\'s share',
    usage: `consentry recovery status <account> | recovery start <account> --new-wallet <address> --recovery-key <hex> | recovery approve|complete|release <account> | recovery cancel | recovery key ${KEY_USAGE}`,
    load: () => import('./recovery.ts').then((m) => m.runRecovery),
  },
  keys: {
    summary: 'Rotate your account\'s key to this wallet\'s (after a recovery): keyring, chain, every record re-sealed; resumable',
    usage: `consentry keys rotate [--paper-file <file>] ${KEY_USAGE}`,
    load: () => import('./recovery.ts').then((m) => m.runKeys),
  },
  backup: {
    summary: 'Back up your encryption key: split to your guardians, or printed as 24 words on paper',
    usage: `consentry backup guardians | backup paper ${KEY_USAGE}`,
    load: () => import('./recovery.ts').then((m) => m.runBackup),
  },
  audit: {
    summary: 'An IRB\'s consent-trail audit of a study: export it (CSV and a self-checking JSON bundle), or verify a bundle offline and on chain',
    usage: 'consentry audit export <studyId> --out <dir> [--block <N>] | audit verify <bundle.json> [--offline]',
    load: () => import('./audit.ts').then((m) => m.runAudit),
  },
  receipts: {
    summary: 'FHIR R4 receipts: an enrollment or your clinical grants as Consent, the releases of your records as AuditEvent',
    usage: `consentry receipts enrollment <studyId> --participant <address> [--out <file>] | receipts grants|releases [--patient <address> | ${KEY_USAGE}] [--ndjson] [--out <file>]   (releases: gateways from GATEWAY_URLS)`,
    load: () => import('./receipts.ts').then((m) => m.runReceipts),
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'Usage: consentry <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `consentry <command> --help` for a command\'s options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`consentry: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  try {
    await (await command.load())(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`consentry ${name}: ${err.message}\nUsage: ${command.usage}`);
      return 2;
    }
    if (err instanceof ConsentryError || (err instanceof Error && /^ERR_PARSE_ARGS/.test((err as { code?: string }).code ?? ''))) {
      console.error(`consentry ${name}: ${err.message}`);
      return err instanceof ConsentryError ? 1 : 2;
    }
    console.error(`consentry ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

// Exit only once stdout and stderr are flushed: a pipe takes large outputs (a --json listing) in parts.
const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
main(process.argv.slice(2)).then(async (code) => {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(process.exitCode && code === 0 ? Number(process.exitCode) : code);
});
