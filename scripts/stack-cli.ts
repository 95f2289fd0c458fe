/**
 * The foreground process of `npm start`: builds what is stale, starts the stack, prints one URL,
 * and on Ctrl-C stops everything cleanly. `--demo` also seeds demo data (nothing is seeded otherwise).
 */
import '@consentry/sdk/polyfills';
import { ConsentryError } from '@consentry/sdk/errors';
import { buildIfNeeded, startStack } from './stack.ts';
import { DEMO_STUDY, seedDemo } from './demo.ts';
import { seedDemoParticipantsWhenReady } from './demo-participants.ts';

const demo = process.argv.includes('--demo');
const log = (line: string) => console.log(`  ${line}`);

async function main(): Promise<void> {
  console.log('Consentry: starting the embedded stack');
  buildIfNeeded(log);
  const stack = await startStack({ log });
  const seeded = demo ? await seedDemo(stack, log, { participants: false }) : null;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the web app, the indexer and the chain ...`);
    await stack.stop();
    console.log('Stopped. Your data stays in', stack.config.DATA_DIR);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  console.log(`\nConsentry is running: ${stack.webUrl}\n(Ctrl-C to stop)`);
  // The demo study's synthetic participants prove their eligibility: once the proving files exist.
  if (seeded?.studyId) {
    const studyId = seeded.studyId;
    seedDemoParticipantsWhenReady(stack, log, studyId, DEMO_STUDY.criteria).catch((err: unknown) => {
      log(`demo: the synthetic participants could not enrol: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}

main().catch((err: unknown) => {
  const message = err instanceof ConsentryError || err instanceof Error ? err.message : String(err);
  console.error(`\nConsentry could not start: ${message}`);
  process.exit(1);
});
