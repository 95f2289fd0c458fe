export * from './patients.ts';
export * from './anchors.ts';
export * from './indexer.ts';
