import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { pause } from './net.ts';

describe('pause', () => {
  it('leaves no abort listener behind when it ends by itself, however many rounds', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) await pause(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('ends at once when aborted, or when already aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = pause(60_000, controller.signal);
    controller.abort();
    await waiting;
    await pause(60_000, controller.signal);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
