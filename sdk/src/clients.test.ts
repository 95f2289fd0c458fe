import { describe, expect, it } from 'vitest';
import { assertChain, rpcOrigin } from './clients.ts';

describe('rpcOrigin', () => {
  it('keeps only the origin: paths and queries may carry API keys', () => {
    expect(rpcOrigin('https://rpc.example.org/v3/SECRETKEY?x=1')).toBe('https://rpc.example.org');
    expect(rpcOrigin('not a url')).toBe('(invalid RPC URL)');
  });
});

describe('assertChain', () => {
  it('names an unreachable RPC by origin only', async () => {
    const err = await assertChain('http://127.0.0.1:9/v3/SECRETKEY', 31337).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RPC_UNREACHABLE', message: 'Cannot reach the chain at http://127.0.0.1:9' });
    expect(String((err as Error).message)).not.toContain('SECRETKEY');
  });
});
