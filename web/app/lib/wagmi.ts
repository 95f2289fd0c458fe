import { createConfig, http, injected, type Config } from 'wagmi';
import { chainFor } from '@consentry/sdk/clients';
import { devAccountConnector } from './dev-accounts.ts';
import type { PublicConfig } from './public-config.ts';

/** One wagmi config per page load: the configured chain, injected wallets, and on 31337 the dev accounts. */
export function createWagmiConfig(pc: PublicConfig): Config {
  const chain = chainFor(pc.chainId, pc.rpcUrl);
  return createConfig({
    chains: [chain],
    connectors: [
      injected({ shimDisconnect: true }),
      ...pc.devAccounts.map((a) => devAccountConnector({ index: a.index, address: a.address, rpcUrl: pc.rpcUrl })),
    ],
    transports: { [chain.id]: http(pc.rpcUrl, { retryCount: 1, timeout: 10_000 }) },
    ssr: true,
    pollingInterval: 500,
  });
}
