import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has sane defaults for the embedded stack', () => {
    const c = loadConfig({});
    expect(c.RPC_URL).toBe('http://127.0.0.1:8545');
    expect(c.CHAIN_ID).toBe(31337);
    expect(c.CONFIRMATIONS).toBe(2);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.graphqlUrl).toBe('http://127.0.0.1:4350/graphql');
    expect(c.DATA_DIR.endsWith('.consentry')).toBe(true);
  });

  it('parses numbers and prefers SUBGRAPH_URL for queries', () => {
    const c = loadConfig({ CHAIN_ID: '11155111', INDEXER_PORT: '5000', SUBGRAPH_URL: 'https://example.org/subgraphs/name/consentry' });
    expect(c.CHAIN_ID).toBe(11155111);
    expect(c.INDEXER_PORT).toBe(5000);
    expect(c.graphqlUrl).toBe('https://example.org/subgraphs/name/consentry');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ RPC_URL: '', DATABASE_URL: '' }).RPC_URL).toBe('http://127.0.0.1:8545');
  });

  it('names every invalid variable in one error', () => {
    expect(() => loadConfig({ CHAIN_ID: 'abc', DATABASE_URL: 'mysql://x', WEB_PORT: '70000' })).toThrowError(
      /CHAIN_ID[\s\S]*DATABASE_URL[\s\S]*WEB_PORT|CHAIN_ID[\s\S]*WEB_PORT[\s\S]*DATABASE_URL/,
    );
    let caught: unknown;
    try {
      loadConfig({ CHAIN_ID: 'abc' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
