// startAnvil waits for its own anvil: a given port another process holds is refused in words (an
// answer on that port from the other process is not mistaken for ours).
import { afterAll, expect, it } from 'vitest';
import { startAnvil, type AnvilInstance } from './anvil.ts';

const started: AnvilInstance[] = [];
afterAll(async () => {
  for (const a of started) await a.stop();
});

it('refuses a port another anvil holds, instead of using the other one', async () => {
  const first = await startAnvil();
  started.push(first);
  await expect(startAnvil({ port: first.port })).rejects.toThrow(/Address already in use/);
  const second = await startAnvil();
  started.push(second);
  expect(second.port).not.toBe(first.port);
});
