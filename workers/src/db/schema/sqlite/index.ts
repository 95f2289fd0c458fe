export * from './patients.ts';
export * from './indexer.ts';
