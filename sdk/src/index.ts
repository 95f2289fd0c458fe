// Browser-safe surface of the sdk. Node-only modules are imported by path:
// `@consentry/sdk/config`, `@consentry/sdk/deployment`, `@consentry/sdk/testing/anvil`, `@consentry/sdk/net`.
export * from './errors.ts';
export * from './keys.ts';
export * from './graphql.ts';
export * from './clients.ts';
export { patientRegistryAbi, recordAnchorAbi } from './abi/generated.ts';
