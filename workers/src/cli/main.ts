/**
 * The `consentry` command line (`npm run consentry -- <command>`; scripts/consentry.mjs runs this file).
 * Commands arrive with their capabilities; each has --help. Errors are printed in words, never as stacks.
 */
import '@consentry/sdk/polyfills';
import { ConsentryError } from '@consentry/sdk/errors';
import { UsageError, type Command } from './command.ts';
import {
  anchorCommand,
  correctCommand,
  eraseCommand,
  exportCommand,
  importCommand,
  recordsCommand,
  verifyCommand,
} from './records.ts';
import { synthCommand } from './synth.ts';

const COMMANDS: Record<string, Command> = {
  synth: synthCommand,
  import: importCommand,
  records: recordsCommand,
  correct: correctCommand,
  erase: eraseCommand,
  anchor: anchorCommand,
  export: exportCommand,
  verify: verifyCommand,
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
    await command.run(rest);
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

main(process.argv.slice(2)).then((code) => process.exit(code));
