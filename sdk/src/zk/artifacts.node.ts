/**
 * The eligibility circuit's proving files in Node, from circuits/build (written by
 * `npm run circuits:setup`; gitignored, rebuilt by CI once per run).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../config.ts';
import { ConsentryError } from '../errors.ts';
import type { EligibilityArtifacts } from './prove.ts';

export const CIRCUITS_BUILD_DIR = join(REPO_ROOT, 'circuits', 'build');

/** The proving files are not built. */
export class ArtifactsMissingError extends ConsentryError {
  constructor(message: string) {
    super('ZK_ARTIFACTS_MISSING', message);
    this.name = 'ArtifactsMissingError';
  }
}

/** Paths of the witness generator and proving key, and the verification key (parsed). */
export function nodeArtifacts(buildDir: string = CIRCUITS_BUILD_DIR): EligibilityArtifacts & { verificationKey: object } {
  const wasm = join(buildDir, 'eligibility_js', 'eligibility.wasm');
  const zkey = join(buildDir, 'eligibility.zkey');
  const vkey = join(buildDir, 'verification_key.json');
  const missing = [wasm, zkey, vkey].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new ArtifactsMissingError(`The eligibility circuit is not built (${missing.map((f) => f.slice(buildDir.length + 1)).join(', ')} missing in ${buildDir}): run \`npm run circuits:setup\``);
  }
  return { wasm, zkey, verificationKey: JSON.parse(readFileSync(vkey, 'utf8')) as object };
}
