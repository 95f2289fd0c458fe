import { ConsentryError } from '@consentry/sdk/errors';

/**
 * Indexer failures. Codes: SCHEMA_* (schema.graphql and tables disagree), CHAIN_ID_MISMATCH,
 * RPC_UNREACHABLE, DEPLOYMENT_NOT_ON_CHAIN, PAGE_RACE (the chain moved while a page was read;
 * retried), HANDLER_FAILED.
 */
export class IndexerError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'IndexerError';
  }
}
