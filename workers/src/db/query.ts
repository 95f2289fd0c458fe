// Turns the store's dialect-neutral filters into drizzle conditions. drizzle's operators work on
// columns of any dialect, so SQLite and PostgreSQL share this.
import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  gt,
  gte,
  inArray,
  lt,
  lte,
  ne,
  notInArray,
  or,
  sql,
  type Column,
  type SQL,
  type Table,
} from 'drizzle-orm';
import { StoreError, type Filter, type ListQuery } from './store.ts';

function columnOf(table: Table, field: string): Column {
  const column = getTableColumns(table)[field];
  if (!column) throw new StoreError('UNKNOWN_FIELD', `Unknown field "${field}"`);
  return column;
}

function condition(table: Table, filter: Filter): SQL | undefined {
  if ('and' in filter) return and(...filter.and.map((f) => condition(table, f)));
  if ('or' in filter) return or(...filter.or.map((f) => condition(table, f)));
  const column = columnOf(table, filter.field);
  const { op, value } = filter;
  if (op === 'in' || op === 'not_in') {
    if (!Array.isArray(value)) throw new StoreError('BAD_FILTER', `"${filter.field}_${op}" needs a list`);
    return op === 'in' ? inArray(column, value) : notInArray(column, value);
  }
  if (Array.isArray(value)) throw new StoreError('BAD_FILTER', `"${filter.field}" needs a single value`);
  switch (op) {
    case 'eq':
      return eq(column, value);
    case 'not':
      return ne(column, value);
    case 'gt':
      return gt(column, value);
    case 'gte':
      return gte(column, value);
    case 'lt':
      return lt(column, value);
    case 'lte':
      return lte(column, value);
  }
}

export function whereOf(table: Table, filters: readonly Filter[] | undefined): SQL | undefined {
  if (!filters?.length) return undefined;
  return and(...filters.map((f) => condition(table, f)));
}

/** ORDER BY the requested field, then id, so pages are stable (graph-node orders by id by default). */
export function orderOf(table: Table, query: ListQuery): SQL[] {
  const direction = query.orderDirection === 'desc' ? desc : asc;
  const id = columnOf(table, 'id');
  if (!query.orderBy || query.orderBy === 'id') return [direction(id)];
  return [direction(columnOf(table, query.orderBy)), asc(id)];
}

/** `SET col = excluded.col` for every column but the key: an upsert that keeps the new row. */
export function excludedSet(table: Table): Record<string, SQL> {
  const set: Record<string, SQL> = {};
  for (const [field, column] of Object.entries(getTableColumns(table))) {
    if (field === 'id') continue;
    set[field] = sqlExcluded(column.name);
  }
  return set;
}

function sqlExcluded(columnName: string): SQL {
  return sql.raw(`excluded."${columnName.replaceAll('"', '""')}"`);
}
