// Mappings of IssuerRegistry events (contracts/src/interfaces/IIssuerRegistry.sol): the mutable
// Issuer per leaf. The embedded indexer mirrors it (workers/src/indexer/mappings/market.ts).
import { log } from '@graphprotocol/graph-ts';
import { IssuerAdded, IssuerRemoved } from '../generated/IssuerRegistry/IssuerRegistry';
import { Issuer } from '../generated/schema';
import { uintId } from './ids';

export function handleIssuerAdded(event: IssuerAdded): void {
  const issuer = new Issuer(uintId(event.params.leaf));
  issuer.index = event.params.index;
  issuer.ax = event.params.ax;
  issuer.ay = event.params.ay;
  issuer.leaf = event.params.leaf;
  issuer.active = true;
  issuer.root = event.params.root;
  issuer.updatedAtBlock = event.block.number;
  issuer.updatedAtTimestamp = event.block.timestamp;
  issuer.save();
}

export function handleIssuerRemoved(event: IssuerRemoved): void {
  const issuer = Issuer.load(uintId(event.params.leaf));
  if (issuer == null) {
    log.warning('IssuerRemoved for an issuer added before the start block: {}', [event.params.leaf.toString()]);
    return;
  }
  issuer.active = false;
  issuer.root = event.params.root;
  issuer.updatedAtBlock = event.block.number;
  issuer.updatedAtTimestamp = event.block.timestamp;
  issuer.save();
}
