import { createWalletClient, custom, getAddress, http, isAddressEqual, numberToHex, type Address, type EIP1193RequestFn, type Hex } from 'viem';
import { mnemonicToAccount, type HDAccount, type LocalAccount } from 'viem/accounts';
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

type TypedFields = Record<string, ReadonlyArray<{ name: string; type: string }>>;

/** JSON-RPC typed data carries integers as strings; the local signer wants numbers (bigint). */
function reviveIntegers(types: TypedFields, type: string, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const array = /^(.*)\[\d*\]$/.exec(type);
  if (array && Array.isArray(value)) return value.map((v) => reviveIntegers(types, array[1]!, v));
  if (/^u?int\d*$/.test(type) && (typeof value === 'string' || typeof value === 'number')) return BigInt(value);
  const fields = types[type];
  if (fields && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, reviveIntegers(types, fields.find((f) => f.name === k)?.type ?? '', v)]));
  }
  return value;
}

/**
 * Answers an `eth_signTypedData_v4` request (its typed data as JSON, or as an object) with a local
 * account, in the page: what a wallet does when a caller names the account by address.
 */
export function signTypedDataJson(account: LocalAccount, json: unknown): Promise<Hex> {
  const typed = (typeof json === 'string' ? JSON.parse(json) : json) as { domain?: Record<string, unknown>; types: TypedFields; primaryType: string; message: Record<string, unknown> };
  const { EIP712Domain: domainFields = [], ...types } = typed.types;
  return account.signTypedData!({
    domain: reviveIntegers({ EIP712Domain: domainFields }, 'EIP712Domain', typed.domain ?? {}) as never,
    types,
    primaryType: typed.primaryType,
    message: reviveIntegers(types, typed.primaryType, typed.message) as Record<string, unknown>,
  });
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
    // Signatures are made here, in the page, whichever way they are asked for: a caller that names
    // the account by address (wagmi's signTypedData({account})) reaches this as eth_signTypedData_v4,
    // which must not go to the node (anvil would sign only for its own unlocked accounts).
    const signer = (who: unknown) => {
      if (typeof who !== 'string' || !isAddressEqual(who as Address, address)) throw new DevAccountError(`Development account ${index} cannot sign for ${String(who)}`);
      return devAccount(index, address);
    };
    const request = (async ({ method, params }: { method: string; params?: unknown }) => {
      const args = (params ?? []) as unknown[];
      switch (method) {
        case 'eth_accounts':
          return connected ? [address] : [];
        case 'eth_requestAccounts':
          return [address];
        case 'eth_chainId':
          return numberToHex(chain.id);
        case 'eth_signTypedData_v4':
          return signTypedDataJson(signer(args[0]), args[1]);
        case 'personal_sign':
          return signer(args[1]).signMessage({ message: { raw: args[0] as Hex } });
        default:
          return rpc.request({ method, params } as never);
      }
    }) as EIP1193RequestFn;
    const provider: Provider = { request };

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
        return createWalletClient({ account: devAccount(index, address), chain, transport: custom({ request }, { retryCount: 0 }) });
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
