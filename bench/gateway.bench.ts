/**
 * Release latency and throughput through the committee: 50 requesters (each an accredited
 * organisation with its own grant) fetch a record's key at once, each release asking all 3
 * gateways and combining the first k = 2 shares (sign, check the chain, log with fsync, re-seal,
 * combine), on loopback against a real anvil chain. The 3 gateways run as separate processes
 * (workers/src/gateway/main.ts, as `npm start` runs them); the requesters run in this process.
 *   gateway.release_p50_ms / gateway.release_p95_ms   per release, as the requester sees it
 *   gateway.releases_per_s                            completed releases per second
 *   gateway.server_p50_ms / gateway.server_p95_ms     time inside one gateway's release() (Server-Timing)
 *   gateway.cpu_ms_per_release_{client,gateways,anvil} CPU time per release in each party (/proc)
 *   gateway.baseline_health_p95_ms                    the same 50-way concurrency on GET /health of
 *                                                     the 3 gateways (HTTP and event loop only)
 * and, once, where a gateway's time goes (mean wall ms per step of release(), queueing included).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { privateKeyToAccount } from 'viem/accounts';
import { fetchDataKey, readCommittee, type releaseTypedData } from '../sdk/src/access/release.ts';
import { publicClientFor } from '../sdk/src/clients.ts';
import type { FhirResource } from '../sdk/src/records/fhir-types.ts';
import { CHAIN, startAccessFixture, type Requester } from '../workers/src/gateway/testing/fixture.ts';

const REQUESTERS = Number(process.env.BENCH_REQUESTERS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const lab = { resourceType: 'Observation', id: 'bench-lab', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] }, valueQuantity: { value: 6.1, unit: '%' } } as FhirResource;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN; // NaN: nothing measured
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** CPU ms (user + system) a process and its descendants have used so far, from /proc (Linux). */
const cpuMsOf = (pid: number | undefined): number => {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const own = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in 1/100 s
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    return own + children.reduce((sum, child) => sum + cpuMsOf(child), 0);
  } catch {
    return NaN;
  }
};

const f = await startAccessFixture([lab], { processes: true, gatewayEnv: { GATEWAY_SERVER_TIMING: '1' }, gatewayNodeArgs: process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) });
try {
  const [record] = await f.records.list();
  const c = f.deployment.contracts as Required<typeof f.deployment.contracts>;
  // A requester's client reads the committee once per session, not per release.
  const committee = await readCommittee(publicClientFor(f.anvil.rpcUrl, CHAIN), c.ReleaseCommittee.address);
  const requesters: Requester[] = [];
  for (let i = 0; i < REQUESTERS; i++) {
    const r = await f.organization(0);
    await f.grant(r, ['labs'], ['labs'], 7);
    requesters.push(r);
  }
  const server: number[] = [];
  const steps = new Map<string, number[]>();
  const timedFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    for (const part of (res.headers.get('server-timing') ?? '').split(',').filter(Boolean)) {
      const [name, dur] = part.trim().split(';dur=');
      if (name === 'total') server.push(Number(dur));
      else steps.set(name!, [...(steps.get(name!) ?? []), Number(dur)]);
    }
    return res;
  };
  const release = (r: Requester) => {
    const account = privateKeyToAccount(r.privateKey);
    return fetchDataKey({
      gateways: f.refs,
      committee,
      chainId: CHAIN,
      verifyingContract: c.AccessGrants.address,
      requester: r.address,
      requesterKeys: r.keys,
      sign: (typed: ReturnType<typeof releaseTypedData>) => account.signTypedData(typed),
      patient: f.patient.address,
      recordId: record!.recordId,
      version: 1,
      fetchImpl: timedFetch,
      // Measure slow releases rather than fail them (a loaded machine can exceed the default 10 s).
      timeoutMs: 60_000,
    });
  };
  // Warm up every path once per requester (first-contact costs are not the steady state).
  await Promise.all(requesters.map((r) => release(r)));
  server.length = 0;
  steps.clear();

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

  const cpuBefore = { client: process.cpuUsage(), gateways: f.children.map((ch) => cpuMsOf(ch.pid)), anvil: cpuMsOf(f.anvil.process.pid) };
  const latencies: number[] = [];
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      requesters.map(async (r) => {
        const t = performance.now();
        const got = await release(r);
        if (got.dek.length !== 32) throw new Error('no key');
        latencies.push(performance.now() - t);
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const n = latencies.length;
  const clientCpu = process.cpuUsage(cpuBefore.client);
  const gatewaysCpu = f.children.reduce((sum, ch, i) => sum + cpuMsOf(ch.pid) - cpuBefore.gateways[i]!, 0);
  const anvilCpu = cpuMsOf(f.anvil.process.pid) - cpuBefore.anvil;

  console.log(`# load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores at the end`);
  console.log(`# ${n} releases by ${REQUESTERS} concurrent requesters against 3 gateway processes (k = 2), ${ROUNDS} rounds`);
  console.log(`# a gateway's release(), mean wall ms per step (each includes waiting behind the other releases in flight): ${[...steps].map(([k, v]) => `${k} ${mean(v).toFixed(2)}`).join(', ')}`);
  console.log(`gateway.release_p50_ms: ${pct(latencies, 50).toFixed(1)} ms`);
  console.log(`gateway.release_p95_ms: ${pct(latencies, 95).toFixed(1)} ms`);
  console.log(`gateway.releases_per_s: ${(n / seconds).toFixed(1)} releases/s`);
  console.log(`gateway.server_p50_ms: ${pct(server, 50).toFixed(2)} ms`);
  console.log(`gateway.server_p95_ms: ${pct(server, 95).toFixed(2)} ms`);
  console.log(`gateway.cpu_ms_per_release_client: ${((clientCpu.user + clientCpu.system) / 1000 / n).toFixed(2)} ms`);
  console.log(`gateway.cpu_ms_per_release_gateways: ${(gatewaysCpu / n).toFixed(2)} ms`);
  console.log(`gateway.cpu_ms_per_release_anvil: ${(anvilCpu / n).toFixed(2)} ms`);
  console.log(`gateway.baseline_health_p95_ms: ${pct(health, 95).toFixed(1)} ms`);
} finally {
  await f.close();
}
process.exit(0);
