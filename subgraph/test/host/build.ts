/**
 * Makes sure the subgraph's WASM is built and current before tests load it: when a data
 * source's `build/<Name>/<Name>.wasm` is missing or older than the mappings, the schema or the
 * manifest script, runs `npm run build` (manifest + graph codegen + graph build, all offline).
 * Test files run in parallel, so the build is serialised through a lock directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_SOURCES, SUBGRAPH_DIR, type FileTemplateSpec } from '../../scripts/manifest.ts';
import { MappingHostError } from './errors.ts';

export const wasmFile = (contract: string, subgraphDir: string = SUBGRAPH_DIR): string =>
  join(subgraphDir, 'build', contract, `${contract}.wasm`);

/**
 * A template's WASM: graph-cli compiles a mapping file once, so a template whose file a data
 * source also uses runs that data source's module; otherwise it gets build/<Name>/<Name>.wasm.
 */
export function templateWasmFile(template: FileTemplateSpec, subgraphDir: string = SUBGRAPH_DIR): string {
  const shared = DATA_SOURCES.find((ds) => ds.file === template.file);
  return shared ? wasmFile(shared.contract, subgraphDir) : wasmFile(template.name, subgraphDir);
}

const mtime = (file: string): number => statSync(file).mtimeMs;

/** Newest modification time of the build's inputs. */
function newestInput(subgraphDir: string): number {
  const inputs = [join(subgraphDir, 'schema.graphql'), join(subgraphDir, 'scripts', 'manifest.ts')];
  for (const name of readdirSync(join(subgraphDir, 'src'))) inputs.push(join(subgraphDir, 'src', name));
  return Math.max(...inputs.map(mtime));
}

/** Whether every data source's WASM exists and is newer than the build's inputs. */
export function isBuildCurrent(subgraphDir: string = SUBGRAPH_DIR): boolean {
  const newest = newestInput(subgraphDir);
  return DATA_SOURCES.every((ds) => {
    const file = wasmFile(ds.contract, subgraphDir);
    return existsSync(file) && mtime(file) >= newest;
  });
}

function runBuild(subgraphDir: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build', '--silent'], {
      cwd: subgraphDir,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new MappingHostError('SUBGRAPH_BUILD_FAILED', `could not run npm run build: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const why = signal ? `was killed (${signal}) after ${timeoutMs} ms` : `exited with ${code}`;
        reject(new MappingHostError('SUBGRAPH_BUILD_FAILED', `subgraph build ${why}:\n${output.slice(-4000)}`));
      }
    });
  });
}

/** A lock left behind by a process that no longer runs (killed mid-build). */
function holderIsGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    return false; // just created, pid not written yet
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Builds the subgraph when its WASM is missing or stale; returns the subgraph directory. */
export async function ensureSubgraphBuilt(opts: { subgraphDir?: string; timeoutMs?: number } = {}): Promise<string> {
  const dir = opts.subgraphDir ?? SUBGRAPH_DIR;
  const timeoutMs = opts.timeoutMs ?? 180_000;
  if (isBuildCurrent(dir)) return dir;
  const lock = join(dir, 'build.lock');
  const deadline = Date.now() + timeoutMs + 30_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      // Another test file is building: wait for it, then see whether its build will do.
      if (holderIsGone(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new MappingHostError('SUBGRAPH_BUILD_FAILED', `${lock} is held too long; remove it if no build runs`);
      await sleep(250);
    }
  }
  try {
    if (!isBuildCurrent(dir)) await runBuild(dir, timeoutMs);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  if (!isBuildCurrent(dir)) throw new MappingHostError('SUBGRAPH_BUILD_FAILED', 'the subgraph build ran but left no current WASM');
  return dir;
}
