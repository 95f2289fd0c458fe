/**
 * The foreground process of `npm start`: builds what is stale, starts the stack, prints one URL,
 * and on Ctrl-C stops everything cleanly. `--demo` also seeds demo data (nothing is seeded otherwise).
 */
import '@consentry/sdk/polyfills';
import { ConsentryError } from '@consentry/sdk/errors';
import { buildIfNeeded, startStack } from './stack.ts';

const demo = process.argv.includes('--demo');
const log = (line: string) => console.log(`  ${line}`);

async function main(): Promise<void> {
  console.log('Consentry: starting the embedded stack');
  buildIfNeeded(log);
  const stack = await startStack({ log });
  // Loaded only now: the demo imports the contracts' ABIs, which buildIfNeeded generates on a fresh clone.
  const demoModule = demo ? await import('./demo.ts') : null;
  const seeded = demoModule ? await demoModule.seedDemo(stack, log, { participants: false }) : null;

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
  if (demoModule && seeded?.studyId) {
    const studyId = seeded.studyId;
    const { seedDemoParticipantsWhenReady } = await import('./demo-participants.ts');
    seedDemoParticipantsWhenReady(stack, log, studyId, demoModule.DEMO_STUDY.criteria).catch((err: unknown) => {
      log(`demo: the synthetic participants could not enrol: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}

main().catch((err: unknown) => {
  const message = err instanceof ConsentryError || err instanceof Error ? err.message : String(err);
  console.error(`\nConsentry could not start: ${message}`);
  process.exit(1);
});
