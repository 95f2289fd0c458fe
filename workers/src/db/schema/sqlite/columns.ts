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

/**
 * A GraphQL `BigInt` that can exceed 64 bits (uint256 ids, amounts, field elements): decimal
 * TEXT, a JS bigint. Compares as text in SQL, so sort and range-filter such fields in JS.
 */
export const uint256 = customType<{ data: bigint; driverData: string }>({
  dataType: () => 'text',
  toDriver: (value) => value.toString(),
  fromDriver: (value) => BigInt(value),
});
