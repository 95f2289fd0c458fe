// Mappings of ConsentToken events (contracts/src/interfaces/IConsentToken.sol): one immutable
// ConsentRevocation per withdrawn consent. The embedded indexer mirrors it
// (workers/src/indexer/mappings/study-market.ts).
import { ConsentRevoked } from '../generated/ConsentToken/ConsentToken';
import { ConsentRevocation } from '../generated/schema';
import { eventId, uintId } from './ids';

export function handleConsentRevoked(event: ConsentRevoked): void {
  const entity = new ConsentRevocation(eventId(event));
  entity.study = uintId(event.params.studyId);
  entity.holder = event.params.holder;
  entity.blockNumber = event.block.number;
  entity.blockTimestamp = event.block.timestamp;
  entity.transactionHash = event.transaction.hash;
  entity.save();
}
