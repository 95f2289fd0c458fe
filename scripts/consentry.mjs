#!/usr/bin/env node
// The `consentry` command (bin of the root package; `npm run consentry -- <command>` in this repo).
// A thin shim so the TypeScript CLI in workers/src/cli runs without a build step.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// tsx by absolute path: the command runs from any folder, not only inside the repository.
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const child = spawn(process.execPath, ['--import', tsx, join(root, 'workers', 'src', 'cli', 'main.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  // Blob writes are fsynced on libuv's thread pool; more threads let a chunk's fsyncs overlap.
  env: { UV_THREADPOOL_SIZE: '16', ...process.env },
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
