// Runs the `consentry` command in a child process, as a user would, for the CLI tests. Asynchronous:
// a test's gateways or chain answer from the test's own process, so it must not block while the
// command runs. A command that hangs is killed after 60 s.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@consentry/sdk/config';

const CLI = join(REPO_ROOT, 'scripts', 'consentry.mjs');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runConsentry(env: Record<string, string>, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
