// What handlers see while one page of blocks is indexed: the entities as of the event being
// handled, and a record of every write. The page ends as one PageWrite, committed atomically.
import type {
  BlockRef,
  EntityRow,
  EntityRows,
  ImmutableEntityName,
  MutableEntityName,
  PageWrite,
  PendingManifest,
  UndoEntry,
} from '../db/store.ts';
import { IMMUTABLE_ENTITIES, MUTABLE_ENTITIES } from '../db/store.ts';

export class PageContext {
  readonly #current = new Map<MutableEntityName, Map<string, EntityRow | null>>();
  readonly #dirty = new Map<MutableEntityName, Set<string>>();
  readonly #inserts = new Map<ImmutableEntityName, EntityRow[]>();
  readonly #undo: UndoEntry[] = [];
  readonly #undoKeys = new Set<string>();
  readonly #manifests: PendingManifest[] = [];
  #block = -1;

  /**
   * `wanted`: the ids of mutable entities the page's handlers will read; `loaded`: those of them
   * that are stored (the others do not exist yet).
   */
  constructor(
    wanted: ReadonlyMap<MutableEntityName, ReadonlySet<string>>,
    loaded: { [E in MutableEntityName]?: readonly EntityRows[E][] },
  ) {
    for (const entity of MUTABLE_ENTITIES) {
      const rows = new Map<string, EntityRow | null>();
      for (const id of wanted.get(entity) ?? []) rows.set(id, null);
      for (const row of loaded[entity] ?? []) rows.set(row.id, row);
      this.#current.set(entity, rows);
      this.#dirty.set(entity, new Set());
    }
    for (const entity of IMMUTABLE_ENTITIES) this.#inserts.set(entity, []);
  }

  /** The block of the events handled next (undo entries are kept per block). */
  enterBlock(blockNumber: number): void {
    this.#block = blockNumber;
  }

  get<E extends MutableEntityName>(entity: E, id: string): EntityRows[E] | null {
    const rows = this.#current.get(entity)!;
    if (!rows.has(id)) throw new Error(`${entity} ${id} was not loaded for this page`);
    return (rows.get(id) as EntityRows[E] | null) ?? null;
  }

  save<E extends MutableEntityName>(entity: E, row: EntityRows[E]): void {
    const rows = this.#current.get(entity)!;
    const key = `${this.#block}:${entity}:${row.id}`;
    if (!this.#undoKeys.has(key)) {
      this.#undoKeys.add(key);
      const previous = rows.get(row.id) ?? null;
      this.#undo.push({ blockNumber: this.#block, entity, id: row.id, previous: previous && { ...previous } });
    }
    rows.set(row.id, { ...row });
    this.#dirty.get(entity)!.add(row.id);
  }

  insert<E extends ImmutableEntityName>(entity: E, row: EntityRows[E]): void {
    this.#inserts.get(entity)!.push(row);
  }

  /** A batch manifest to fetch once the page is committed. */
  fetchManifest(manifest: PendingManifest): void {
    this.#manifests.push(manifest);
  }

  get eventsWritten(): number {
    let n = 0;
    for (const rows of this.#inserts.values()) n += rows.length;
    return n;
  }

  toWrite(checkpoint: BlockRef, blocks: BlockRef[], pruneBelow: number): PageWrite {
    const upserts = {} as PageWrite['upserts'];
    for (const entity of MUTABLE_ENTITIES) {
      const rows = this.#current.get(entity)!;
      (upserts as Record<string, EntityRow[]>)[entity] = [...this.#dirty.get(entity)!].map((id) => rows.get(id)!);
    }
    const inserts = {} as PageWrite['inserts'];
    for (const entity of IMMUTABLE_ENTITIES) {
      (inserts as Record<string, EntityRow[]>)[entity] = this.#inserts.get(entity)!;
    }
    return { checkpoint, blocks, inserts, upserts, undo: this.#undo, manifests: this.#manifests, pruneBelow };
  }
}
