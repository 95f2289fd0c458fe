// Every stored entity as plain JSON values, for comparing the indexer with the subgraph mappings
// (subgraph parity test) and for tests: fields as in schema.graphql without derived ones, Bytes
// lowercase hex, BigInt decimal strings, references the referenced id, each list sorted by id.
import { ENTITY_NAMES, type ChainEntityName, type EntityValue, type Store } from '../db/store.ts';

export type DumpValue = string | number | boolean | null;
export type EntityDump = Record<ChainEntityName, Array<Record<string, DumpValue>>>;

const PAGE = 1000;

function plain(value: EntityValue): DumpValue {
  return typeof value === 'bigint' ? value.toString() : value;
}

export async function dumpEntities(store: Store): Promise<EntityDump> {
  const dump = {} as EntityDump;
  for (const entity of ENTITY_NAMES) {
    const rows: Array<Record<string, DumpValue>> = [];
    for (let skip = 0; ; skip += PAGE) {
      const page = await store.findMany(entity, { first: PAGE, skip, orderBy: 'id', orderDirection: 'asc' });
      for (const row of page) {
        rows.push(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v as EntityValue)])));
      }
      if (page.length < PAGE) break;
    }
    // Sorted here too, so the order never depends on a database collation.
    dump[entity] = rows.sort((a, b) => (String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0));
  }
  return dump;
}
