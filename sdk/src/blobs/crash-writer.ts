// Test helper (node-only): writes blobs forever into the store given as argv[2], until killed.
import { createFsBlobStore } from './fs.ts';

const store = await createFsBlobStore(process.argv[2]!);
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const blob = new Uint8Array(2 * 1024 * 1024);
  blob.fill(i % 251);
  new DataView(blob.buffer).setUint32(0, i);
  await store.put(blob);
}
