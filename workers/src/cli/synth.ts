import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { synthesizeBundles } from '@consentry/sdk/synth/generate';
import { UsageError } from './command.ts';

export async function runSynth(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { patients: { type: 'string' }, seed: { type: 'string', default: 'consentry' }, out: { type: 'string' } },
    strict: true,
  });
  const patients = Number(values.patients);
  if (!values.patients || !Number.isInteger(patients) || patients < 1 || patients > 100_000) {
    throw new UsageError('--patients must be a whole number from 1 to 100000');
  }
  if (!values.out) throw new UsageError('--out <dir> is required');
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  const started = performance.now();
  let resources = 0;
  // In chunks, so a large run shows progress and never holds every bundle in memory.
  const chunk = 500;
  for (let first = 0; first < patients; first += chunk) {
    const bundles = synthesizeBundles({ patients: Math.min(chunk, patients - first), seed: `${values.seed}/${first}` });
    for (const b of bundles) {
      writeFileSync(join(out, `${b.id}.json`), `${JSON.stringify(b, null, 2)}\n`);
      resources += b.entry.length;
    }
    process.stderr.write(`\rsynth: ${Math.min(first + chunk, patients)}/${patients} patients`);
  }
  process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  console.log(`synth: wrote ${patients} bundles with ${resources} resources to ${out} in ${seconds.toFixed(1)} s (seed "${values.seed}")`);
}
