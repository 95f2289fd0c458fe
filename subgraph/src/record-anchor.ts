// Mappings of RecordAnchor (contracts/src/interfaces/IRecordAnchor.sol) and of the batch manifests
// it names. BatchAnchored gives an AnchorBatch and starts a file data source for the manifest
// (found by the CID rebuilt from the event's digest); once the file is fetched, its leaves become
// RecordVersions. A manifest is taken only in the exact form sdk/src/anchor/manifest.ts writes,
// for this batch's root and leaf count; anything else is logged and leaves the batch without
// versions (anyone can anchor, so a manifest is untrusted input). The embedded indexer applies
// the same rules (workers/src/indexer/mappings/record-anchor.ts).
import {
  BigInt,
  Bytes,
  DataSourceContext,
  dataSource,
  json,
  JSONValue,
  JSONValueKind,
  log,
  TypedMap,
} from '@graphprotocol/graph-ts';
import { BatchAnchored } from '../generated/RecordAnchor/RecordAnchor';
import { AnchorBatch, RecordVersion } from '../generated/schema';
import { AnchorBatchManifest } from '../generated/templates';
import { blobCid, recordVersionId } from './ids';

const FORMAT = 'consentry/anchor-batch/v1';
const MAX_VERSION: i64 = 2147483647;

export function handleBatchAnchored(event: BatchAnchored): void {
  const root = event.params.root;
  const batch = new AnchorBatch(root);
  batch.batchId = event.params.batchId;
  batch.root = root;
  batch.submitter = event.params.submitter;
  batch.leafCount = event.params.leafCount;
  batch.manifest = event.params.manifest;
  batch.blockNumber = event.block.number;
  batch.blockTimestamp = event.block.timestamp;
  batch.transactionHash = event.transaction.hash;
  batch.save();

  const context = new DataSourceContext();
  context.setBytes('root', root);
  context.setBigInt('leafCount', event.params.leafCount);
  context.setBigInt('blockNumber', event.block.number);
  AnchorBatchManifest.createWithContext(blobCid(event.params.manifest), context);
}

class ManifestLeaf {
  constructor(
    public leaf: string,
    public recordId: string,
    public version: string,
  ) {}
}

/** `0x` and 64 lowercase hex digits. */
function isHash32(s: string): boolean {
  if (s.length != 66 || s.charCodeAt(0) != 48 || s.charCodeAt(1) != 120) return false;
  for (let i = 2; i < 66; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

// Helpers return '' for "absent or invalid": AssemblyScript narrows nullable locals poorly.

/** A JSON number's text, if it is a plain positive integer no larger than MAX_VERSION; else ''. */
function versionText(value: JSONValue | null): string {
  if (value == null || value.kind != JSONValueKind.NUMBER) return '';
  const text = changetype<string>(value.data as u32);
  if (text.length == 0 || text.length > 10 || text.charCodeAt(0) == 48) return '';
  let n: i64 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return '';
    n = n * 10 + (c - 48);
  }
  return n <= MAX_VERSION ? text : '';
}

/** A string member of a JSON object; '' when absent or not a string. */
function stringField(obj: TypedMap<string, JSONValue>, key: string): string {
  const v = obj.get(key);
  if (v == null || v.kind != JSONValueKind.STRING) return '';
  return v.toString();
}

/** The manifest's leaves if `content` is exactly the canonical manifest of this batch; else null (why is logged). */
function readManifest(content: Bytes, root: string, leafCount: BigInt): ManifestLeaf[] | null {
  const parsed = json.try_fromBytes(content);
  if (parsed.isError || parsed.value.kind != JSONValueKind.OBJECT) return null;
  const top = parsed.value.toObject();
  const format = stringField(top, 'format');
  const manifestRoot = stringField(top, 'root');
  const leavesValue = top.get('leaves');
  if (format != FORMAT || manifestRoot != root) return null;
  if (leavesValue == null || leavesValue.kind != JSONValueKind.ARRAY) return null;
  const items = leavesValue.toArray();
  if (items.length == 0 || BigInt.fromI32(items.length) != leafCount) return null;
  const leaves = new Array<ManifestLeaf>();
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    if (items[i].kind != JSONValueKind.OBJECT) return null;
    const item = items[i].toObject();
    const leaf = stringField(item, 'leaf');
    const recordId = stringField(item, 'recordId');
    const version = versionText(item.get('version'));
    if (!isHash32(leaf) || !isHash32(recordId) || seen.has(leaf) || version.length == 0) return null;
    seen.add(leaf);
    leaves.push(new ManifestLeaf(leaf, recordId, version));
  }
  // Only the canonical bytes: no other keys, order, spacing or escapes.
  let canonical = '{"format":"' + FORMAT + '","root":"' + root + '","leaves":[';
  for (let i = 0; i < leaves.length; i++) {
    if (i > 0) canonical += ',';
    canonical += '{"leaf":"' + leaves[i].leaf + '","recordId":"' + leaves[i].recordId + '","version":' + leaves[i].version + '}';
  }
  canonical += ']}';
  const expected = Bytes.fromUTF8(canonical);
  if (expected.length != content.length) return null;
  for (let i = 0; i < expected.length; i++) if (expected[i] != content[i]) return null;
  return leaves;
}

export function handleAnchorBatchManifest(content: Bytes): void {
  const context = dataSource.context();
  const root = context.getBytes('root');
  const blockNumber = context.getBigInt('blockNumber');
  const leaves = readManifest(content, root.toHexString(), context.getBigInt('leafCount'));
  if (leaves == null) {
    log.warning('batch {}: manifest {} is not a valid manifest of this batch; no record versions', [
      root.toHexString(),
      dataSource.stringParam(),
    ]);
    return;
  }
  for (let i = 0; i < leaves.length; i++) {
    const leaf = Bytes.fromHexString(leaves[i].leaf);
    const version = new RecordVersion(recordVersionId(root, leaf));
    version.batch = root;
    version.leaf = leaf;
    version.recordId = Bytes.fromHexString(leaves[i].recordId);
    version.version = I32.parseInt(leaves[i].version);
    version.blockNumber = blockNumber;
    version.save();
  }
}
