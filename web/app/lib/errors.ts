import { decodeErrorResult, type Hex } from 'viem';
import { ALL_ABIS, describeRevert } from '@consentry/sdk/access/actions';
import { rpcOrigin } from '@consentry/sdk/clients';

/** What the user was doing when the error happened; it changes the words, not the diagnosis. */
export type ErrorStage = 'connecting' | 'signing' | 'transaction' | 'reading';

/** The contract's custom errors, in words a patient understands. */
const CONTRACT_ERRORS: Record<string, string> = {
  PatientRegistry__AlreadyRegistered: 'This wallet is already registered',
  PatientRegistry__NotRegistered: 'This wallet is not registered as a patient',
  PatientRegistry__InvalidKey: 'The contract refused the encryption key: it is not a usable X25519 public key',
  PatientRegistry__SameKey: 'The new encryption key is the same as the current one',
};

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  shortMessage?: unknown;
  cause?: unknown;
  data?: unknown;
  raw?: unknown;
}

/** Every error in the cause chain, outermost first (bounded: causes can be cyclic). */
function causeChain(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = err;
  while (current && typeof current === 'object' && chain.length < 20 && !chain.includes(current as ErrorLike)) {
    chain.push(current as ErrorLike);
    current = (current as ErrorLike).cause;
  }
  return chain;
}

const isHex = (v: unknown): v is Hex => typeof v === 'string' && /^0x[0-9a-fA-F]*$/.test(v);

/** The name of the custom error a revert carries, decoded against every Consentry contract's ABI. */
export function revertErrorName(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    const data = e.data as { errorName?: unknown } | undefined;
    if (data && typeof data === 'object' && typeof data.errorName === 'string' && data.errorName !== 'Error') {
      return data.errorName;
    }
    for (const candidate of [e.raw, e.data]) {
      if (isHex(candidate) && candidate.length >= 10) {
        try {
          return decodeErrorResult({ abi: ALL_ABIS, data: candidate }).errorName;
        } catch {
          // not one of ours; keep looking
        }
      }
    }
  }
  return undefined;
}

function has(chain: ErrorLike[], test: (e: ErrorLike) => boolean): boolean {
  return chain.some(test);
}

/** Removes what a patient should never have to read: long hex, stack lines, request dumps. */
function tidy(message: string): string {
  const firstLine = message.split('\n')[0] ?? '';
  return firstLine.replace(/0x[0-9a-fA-F]{12,}/g, '…').slice(0, 200).trim();
}

/**
 * Turns anything thrown by wagmi, viem, a wallet or fetch into one sentence in words:
 * never a stack, never raw hex. `rpcUrl` is named when the chain cannot be reached.
 */
export function describeError(err: unknown, { rpcUrl, stage }: { rpcUrl: string; stage: ErrorStage }): string {
  const chain = causeChain(err);

  if (has(chain, (e) => e.code === 4001 || e.name === 'UserRejectedRequestError' || e.code === 'ACTION_REJECTED')) {
    if (stage === 'transaction') return 'You declined the transaction';
    if (stage === 'connecting') return 'You declined the connection request';
    return 'You declined the signature';
  }

  // The sdk's access actions already refused in words.
  const refused = chain.find((e) => e.name === 'ActionRefusedError');
  if (refused && typeof refused.message === 'string') return refused.message;

  const revert = revertErrorName(err);
  if (revert) return CONTRACT_ERRORS[revert] ?? describeRevert(err) ?? `The contract refused the request (${revert})`;

  if (has(chain, (e) => e.name === 'HttpRequestError' || e.name === 'TimeoutError' || e.name === 'SocketClosedError')) {
    return `Cannot reach the chain at ${rpcOrigin(rpcUrl)}`;
  }
  if (has(chain, (e) => e.name === 'TypeError' && typeof e.message === 'string' && /fetch|network/i.test(e.message))) {
    return `Cannot reach the chain at ${rpcOrigin(rpcUrl)}`;
  }
  if (has(chain, (e) => e.name === 'ChainMismatchError' || e.name === 'ConnectorChainMismatchError' || e.name === 'SwitchChainError')) {
    return 'Your wallet is on another network; switch it to the Consentry chain and try again';
  }
  if (has(chain, (e) => e.name === 'InsufficientFundsError')) {
    return 'This account does not have enough funds to pay the transaction fee';
  }
  if (has(chain, (e) => e.name === 'ConnectorNotConnectedError' || e.name === 'ConnectorAccountNotFoundError')) {
    return 'Connect a wallet first';
  }
  if (has(chain, (e) => e.name === 'ProviderNotFoundError')) {
    return 'No browser wallet was found; install one, or use a development account on the local chain';
  }
  if (has(chain, (e) => e.name === 'DevAccountError')) {
    return 'The local chain does not use the standard development accounts';
  }
  if (has(chain, (e) => e.name === 'ContractFunctionRevertedError' || e.name === 'ExecutionRevertedError')) {
    return 'The contract refused the request';
  }

  const outer = chain[0];
  const text = outer && typeof outer.shortMessage === 'string' ? outer.shortMessage : outer && typeof outer.message === 'string' ? outer.message : '';
  const words = tidy(text);
  const what = stage === 'signing' ? 'The signature failed' : stage === 'transaction' ? 'The transaction failed' : 'Something went wrong';
  return words ? `${what}: ${words}` : what;
}
