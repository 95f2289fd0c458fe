import { ConsentryError } from '@consentry/sdk/errors';

/** The command line was wrong: printed with the command's usage, exit code 2. */
export class UsageError extends ConsentryError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** A command as the catalog in main.ts lists it; `load` imports its module only when it runs. */
export interface Command {
  summary: string;
  usage: string;
  load(): Promise<(args: string[]) => Promise<void>>;
}

/** How the record commands take the patient's key. */
export const KEY_USAGE = '[--key-file <file> | --dev-account <0-9>]  (or CONSENTRY_PRIVATE_KEY)';
