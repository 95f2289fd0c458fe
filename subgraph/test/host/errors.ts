import { ConsentryError } from '@consentry/sdk/errors';

/**
 * A failure of the WASM mapping host. The codes say whose fault it is:
 *   MAPPING_ABORTED, MAPPING_CRITICAL      the mapping aborted or logged critical (graph-node fails the subgraph)
 *   STORE_*                                 the mapping wrote something graph-node's store would reject
 *   WASM_*, HOST_*                          the host or its input is wrong
 */
export class MappingHostError extends ConsentryError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MappingHostError';
  }
}
