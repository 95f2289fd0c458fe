export * from './patients.ts';
export * from './anchors.ts';
export * from './organizations.ts';
export * from './access.ts';
export * from './committee.ts';
export * from './market.ts';
export * from './indexer.ts';
export * from './releases.ts';
