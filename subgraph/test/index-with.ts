// The embedded indexer's side of a parity test: index the chain into a fresh store up to `head` (with
// no indexing error) and dump its entities, to compare with what the subgraph's mappings made.
import { expect } from 'vitest';
import type { Store } from '../../workers/src/db/open.ts';
import { dumpEntities } from '../../workers/src/indexer/dump.ts';
import { createIndexer, type IndexerOptions } from '../../workers/src/indexer/indexer.ts';
import type { EntityDump } from './host/index.ts';

export async function indexWith(open: () => Promise<Store>, options: Omit<IndexerOptions, 'store'>, head: number): Promise<EntityDump> {
  const store = await open();
  try {
    const status = await createIndexer({ ...options, store }).syncToHead();
    expect(status.checkpoint?.number).toBe(head);
    expect(status.hasIndexingErrors).toBe(false);
    return await dumpEntities(store);
  } finally {
    await store.close();
  }
}
