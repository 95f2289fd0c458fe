/**
 * Release latency and throughput through the committee: 50 requesters (each an accredited
 * organisation with its own grant) fetch a record's key at once, each release asking all 3
 * gateways and combining the first k = 2 shares (sign, check the chain, log with fsync, re-seal,
 * combine), on loopback against a real anvil chain.
 *   gateway.release_p50_ms / gateway.release_p95_ms   per release, as the requester sees it
 *   gateway.releases_per_s                            completed releases per second
 *   gateway.baseline_health_p95_ms                    the same 50-way concurrency on GET /health of
 *                                                     the 3 gateways (HTTP and event loop only)
 */
import { performance } from 'node:perf_hooks';
import type { FhirResource } from '../sdk/src/records/fhir-types.ts';
import { startAccessFixture } from '../workers/src/gateway/testing/fixture.ts';

const REQUESTERS = Number(process.env.BENCH_REQUESTERS ?? 50);
const ROUNDS = 6;
const lab = { resourceType: 'Observation', id: 'bench-lab', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] }, valueQuantity: { value: 6.1, unit: '%' } } as FhirResource;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const f = await startAccessFixture([lab]);
try {
  const [record] = await f.records.list();
  const requesters = [];
  for (let i = 0; i < REQUESTERS; i++) {
    const r = await f.organization(0);
    await f.grant(r, ['labs'], ['labs'], 7);
    requesters.push(r);
  }
  // Warm up every path once.
  await f.fetchKey(requesters[0]!, record!.recordId);

  const health: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      requesters.map(async () => {
        const t = performance.now();
        await Promise.all(f.refs.map((g) => fetch(`${g.url}/health`).then((r) => r.json())));
        health.push(performance.now() - t);
      }),
    );
  }

  const latencies: number[] = [];
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      requesters.map(async (r) => {
        const t = performance.now();
        const got = await f.fetchKey(r, record!.recordId);
        if (got.dek.length !== 32) throw new Error('no key');
        latencies.push(performance.now() - t);
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`# ${latencies.length} releases by ${REQUESTERS} concurrent requesters against 3 gateways (k = 2), ${ROUNDS} rounds`);
  console.log(`gateway.release_p50_ms: ${pct(latencies, 50).toFixed(1)} ms`);
  console.log(`gateway.release_p95_ms: ${pct(latencies, 95).toFixed(1)} ms`);
  console.log(`gateway.releases_per_s: ${(latencies.length / seconds).toFixed(1)} releases/s`);
  console.log(`gateway.baseline_health_p95_ms: ${pct(health, 95).toFixed(1)} ms`);
} finally {
  await f.close();
}
process.exit(0);
