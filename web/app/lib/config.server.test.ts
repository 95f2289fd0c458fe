import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDeployment } from '@consentry/sdk/deployment';
import { ANVIL_ACCOUNTS } from '@consentry/sdk/testing/anvil';
import { REPO_ROOT } from '@consentry/sdk/config';
import { publicConfig, serverConfig } from './config.server.ts';

const dir = mkdtempSync(join(tmpdir(), 'consentry-web-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REGISTRY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

describe('publicConfig', () => {
  it('says in words that the contracts are not deployed, instead of failing the page', () => {
    const pc = publicConfig({ DEPLOYMENTS_DIR: join(dir, 'none'), RPC_URL: 'http://127.0.0.1:9' });
    expect(pc.contracts).toBeNull();
    expect(pc.problem).toBe('The contracts are not deployed on chain 31337 yet. Start Consentry with `npm start`.');
    expect(pc.rpcUrl).toBe('http://127.0.0.1:9');
  });

  it('gives the browser the deployed address, the public RPC URL, and on 31337 the dev accounts (not the deployer)', () => {
    writeDeployment(
      { chainId: 31337, startBlock: 1, contracts: { PatientRegistry: { address: REGISTRY, startBlock: 1 } } },
      dir,
    );
    const pc = publicConfig({
      DEPLOYMENTS_DIR: dir,
      RPC_URL: 'http://10.0.0.5:8545',
      PUBLIC_RPC_URL: 'https://rpc.example.org/',
      GATEWAY_URLS: 'http://127.0.0.1:4360, http://127.0.0.1:4361',
      ISSUER_URL: 'http://127.0.0.1:4370/',
      RELAYER_URL: 'http://127.0.0.1:4380//',
    });
    expect(pc).toEqual({
      chainId: 31337,
      rpcUrl: 'https://rpc.example.org/',
      contracts: {
        PatientRegistry: REGISTRY,
        RecordAnchor: null,
        OrganizationRegistry: null,
        AccessGrants: null,
        ReleaseCommittee: null,
        IssuerRegistry: null,
        EligibilityVerifier: null,
        StudyRegistry: null,
        ConsentToken: null,
        Forwarder: null,
        StudyMarket: null,
        TestToken: null,
      },
      startBlock: 1,
      problem: null,
      devAccounts: ANVIL_ACCOUNTS.slice(1).map(({ address }, i) => ({ index: i + 1, address })),
      gateways: ['http://127.0.0.1:4360', 'http://127.0.0.1:4361'],
      issuerUrl: 'http://127.0.0.1:4370',
      relayerUrl: 'http://127.0.0.1:4380',
    });
    // Nothing secret crosses to the browser.
    expect(JSON.stringify(pc)).not.toContain(ANVIL_ACCOUNTS[1]!.privateKey.slice(2));
  });

  it('gives the browser the ConsentToken, the Forwarder and the TestToken when the deployment has them', () => {
    const token = '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0';
    const forwarder = '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9';
    const tusd = '0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9';
    writeDeployment(
      {
        chainId: 31337,
        startBlock: 1,
        contracts: { PatientRegistry: { address: REGISTRY, startBlock: 1 }, ConsentToken: { address: token, startBlock: 1 }, Forwarder: { address: forwarder, startBlock: 1 }, TestToken: { address: tusd, startBlock: 1 } },
      },
      dir,
    );
    const pc = publicConfig({ DEPLOYMENTS_DIR: dir, RPC_URL: 'http://127.0.0.1:9' });
    expect(pc.contracts?.ConsentToken).toBe(token);
    expect(pc.contracts?.Forwarder).toBe(forwarder);
    expect(pc.contracts?.TestToken).toBe(tusd);
  });

  it('offers no development accounts on any other chain', () => {
    writeDeployment({ chainId: 11155111, startBlock: 5, contracts: { PatientRegistry: { address: REGISTRY, startBlock: 5 } } }, dir);
    const pc = publicConfig({ DEPLOYMENTS_DIR: dir, CHAIN_ID: '11155111', RPC_URL: 'https://rpc.example.org' });
    expect(pc.devAccounts).toEqual([]);
    expect(pc.contracts?.PatientRegistry).toBe(REGISTRY);
  });

  it('has no issuer when ISSUER_URL is unset, and finds circuits/build in the repository', () => {
    const { issuerUrl, relayerUrl, circuitsBuildDir } = serverConfig({ DEPLOYMENTS_DIR: dir });
    expect(issuerUrl).toBeNull();
    expect(relayerUrl).toBeNull();
    expect(circuitsBuildDir).toBe(join(REPO_ROOT, 'circuits', 'build'));
    expect(serverConfig({ DEPLOYMENTS_DIR: dir, CIRCUITS_BUILD_DIR: '/srv/zk' }).circuitsBuildDir).toBe('/srv/zk');
  });

  it('rejects a PUBLIC_RPC_URL, GATEWAY_URLS or ISSUER_URL that is not a URL', () => {
    expect(() => publicConfig({ DEPLOYMENTS_DIR: dir, ISSUER_URL: 'issuer' })).toThrow(/ISSUER_URL/);
    expect(() => publicConfig({ DEPLOYMENTS_DIR: dir, RELAYER_URL: 'relayer' })).toThrow(/RELAYER_URL must be a URL/);
    expect(() => publicConfig({ DEPLOYMENTS_DIR: dir, PUBLIC_RPC_URL: 'not a url' })).toThrow(/PUBLIC_RPC_URL must be a URL/);
    expect(() => publicConfig({ DEPLOYMENTS_DIR: dir, GATEWAY_URLS: 'http://127.0.0.1:4360,nope' })).toThrow(/GATEWAY_URLS must be comma-separated URLs/);
  });
});
