import { ConsentryError } from '@consentry/sdk/errors';

/**
 * Indexer failures. Codes: SCHEMA_MISSING, SCHEMA_MISMATCH, SCHEMA_UNSUPPORTED (schema.graphql
 * and the tables disagree), RPC_UNREACHABLE, CHAIN_ID_MISMATCH, DEPLOYMENT_NOT_ON_CHAIN,
 * HANDLER_FAILED (a page could not be built or stored), BUSY, TIMEOUT.
 */
export class IndexerError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'IndexerError';
  }
}
