import { createWalletClient, getAddress, http, numberToHex, type Address, type EIP1193RequestFn } from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import { createConnector } from 'wagmi';
import { ConsentryError } from '@consentry/sdk/errors';

/**
 * Anvil's default mnemonic. Public knowledge, printed by anvil at start-up: these accounts hold
 * play money on the local chain only, and the connector is offered only there (chain 31337).
 */
const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export class DevAccountError extends ConsentryError {
  constructor(message: string) {
    super('DEV_ACCOUNT_MISMATCH', message);
    this.name = 'DevAccountError';
  }
}

/** Asked for the accounts of a development account that is not connected. */
export class DevAccountNotConnectedError extends ConsentryError {
  constructor() {
    super('DEV_ACCOUNT_NOT_CONNECTED', 'The development account is not connected');
    this.name = 'ConnectorNotConnectedError';
  }
}

const derived = new Map<number, HDAccount>();

/**
 * The local account of anvil's default account `index`, derived in the browser from the public
 * mnemonic (BIP-44 m/44'/60'/0'/0/index). The key never crosses the network: the server only
 * tells the browser which addresses to offer, and the derivation must land on the same address.
 */
export function devAccount(index: number, expected?: Address): HDAccount {
  let account = derived.get(index);
  if (!account) {
    account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
    derived.set(index, account);
  }
  if (expected && getAddress(expected) !== account.address) {
    throw new DevAccountError(
      `Development account ${index} is ${account.address} here but the server announced ${expected}: the local chain does not use anvil's default accounts.`,
    );
  }
  return account;
}

export interface DevAccountConnectorOptions {
  index: number;
  address: Address;
  rpcUrl: string;
}

type Provider = { request: EIP1193RequestFn };
type StorageItem = { 'consentry.devAccount': string };

export const DEV_ACCOUNT_CONNECTOR_TYPE = 'devAccount';

/**
 * A wagmi connector for one development account. Transactions and EIP-712 signatures are made
 * with a viem local account in the page (no extension, no prompt); everything else goes to the
 * chain's RPC. It remembers being connected (the connector id, never the key) so a reload
 * reconnects.
 */
export function devAccountConnector({ index, address, rpcUrl }: DevAccountConnectorOptions) {
  const id = `dev-account-${index}`;
  let connected = false;

  return createConnector<Provider, Record<string, unknown>, StorageItem>((config) => {
    const chain = config.chains[0];
    const rpc = http(rpcUrl, { retryCount: 1, timeout: 10_000 })({ chain, retryCount: 1 });
    const provider: Provider = {
      request: (async ({ method, params }: { method: string; params?: unknown }) => {
        switch (method) {
          case 'eth_accounts':
            return connected ? [address] : [];
          case 'eth_requestAccounts':
            return [address];
          case 'eth_chainId':
            return numberToHex(chain.id);
          default:
            return rpc.request({ method, params } as never);
        }
      }) as EIP1193RequestFn,
    };

    return {
      id,
      name: `Development account ${index}`,
      type: DEV_ACCOUNT_CONNECTOR_TYPE,
      async connect() {
        devAccount(index, address); // fail now, in words, if the chain's accounts differ
        connected = true;
        await config.storage?.setItem('consentry.devAccount', id);
        return { accounts: [address], chainId: chain.id } as never;
      },
      async disconnect() {
        connected = false;
        const remembered = await config.storage?.getItem('consentry.devAccount');
        if (remembered === id) await config.storage?.removeItem('consentry.devAccount');
      },
      async getAccounts() {
        if (!connected) throw new DevAccountNotConnectedError();
        return [address];
      },
      async getChainId() {
        return chain.id;
      },
      async getProvider() {
        return provider;
      },
      async getClient() {
        return createWalletClient({
          account: devAccount(index, address),
          chain,
          transport: http(rpcUrl, { retryCount: 1, timeout: 10_000 }),
        });
      },
      async isAuthorized() {
        return (await config.storage?.getItem('consentry.devAccount')) === id;
      },
      onAccountsChanged() {},
      onChainChanged() {},
      onDisconnect() {
        connected = false;
        config.emitter.emit('disconnect');
      },
    };
  });
}
