import { ConsentryError } from '@consentry/sdk/errors';

/** The command line was wrong: printed with the command's usage, exit code 2. */
export class UsageError extends ConsentryError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<void>;
}
