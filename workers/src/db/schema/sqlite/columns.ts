import { customType } from 'drizzle-orm/sqlite-core';

// The SQLite connection runs with better-sqlite3's safeIntegers on, so every INTEGER comes back
// as a JS bigint and 64-bit values are exact. These two column types say how each one is used.

/** A GraphQL `BigInt` (block numbers, timestamps, log indexes): an exact signed 64-bit INTEGER. */
export const bigInt = customType<{ data: bigint; driverData: bigint | number }>({
  dataType: () => 'integer',
  toDriver: (value) => value,
  fromDriver: (value) => BigInt(value),
});

/** A small integer (GraphQL `Int`, counters, block numbers in bookkeeping): a JS number. */
export const int = customType<{ data: number; driverData: bigint | number }>({
  dataType: () => 'integer',
  toDriver: (value) => value,
  fromDriver: (value) => Number(value),
});

/** A GraphQL `Boolean`: INTEGER 0 or 1, a JS boolean. */
export const bool = customType<{ data: boolean; driverData: bigint | number }>({
  dataType: () => 'integer',
  toDriver: (value) => (value ? 1 : 0),
  fromDriver: (value) => Number(value) === 1,
});

/** Decimal digits of the largest uint256: every stored value is padded to this width. */
export const UINT256_DIGITS = 78;

/**
 * A GraphQL `BigInt` that can exceed 64 bits (uint256 ids, amounts, field elements): decimal TEXT
 * zero-padded to 78 digits, a JS bigint. Padded, text order is numeric order, so `_gt`/`_lt`
 * filters and `orderBy` on these fields are right in SQL (filter values go through the same
 * encoding). Only non-negative values fit (they are all uint256 on chain).
 */
export const uint256 = customType<{ data: bigint; driverData: string }>({
  dataType: () => 'text',
  toDriver: (value) => {
    if (value < 0n) throw new RangeError(`a uint256 column cannot hold ${value}`);
    return value.toString().padStart(UINT256_DIGITS, '0');
  },
  fromDriver: (value) => BigInt(value),
});
