/**
 * The patient account a connected wallet acts for (decision 031). An account keeps the address that
 * registered it for good; a recovery moves its control to a new wallet. Pages that read a patient's
 * chain state or records by the connected wallet ask this hook which account that is: the account the
 * wallet controls on chain (PatientRegistry.accountOf), else the wallet itself (not signed up yet, or
 * a deployment from before recovery existed).
 */
import type { Address } from 'viem';
import { zeroAddress } from 'viem';
import { useReadContract } from 'wagmi';
import { patientRegistryAbi } from '@consentry/sdk/abi/generated';
import type { PublicConfig } from './public-config.ts';

export interface PatientAccount {
  /** The account to read by; undefined while the chain is asked. */
  account: Address | undefined;
  /** The wallet controls a registered account (its own, or one recovered to it). */
  controls: boolean;
  /** The wallet acts for another address than its own (a recovered account). */
  recovered: boolean;
  /** The wallet registered an account that a recovery moved to this other wallet: it acts for nothing now. */
  movedTo: Address | null;
  isPending: boolean;
  error: Error | null;
  refetch: () => void;
}

export function usePatientAccount(config: PublicConfig, wallet: Address | undefined): PatientAccount {
  const registry = config.contracts?.PatientRegistry;
  const read = useReadContract({
    address: registry,
    abi: patientRegistryAbi,
    functionName: 'accountOf',
    args: wallet ? [wallet] : undefined,
    chainId: config.chainId,
    query: { enabled: Boolean(registry && wallet), refetchInterval: 5000 },
  });
  // The controller of the wallet's own address: another wallet's once a recovery moved its account away.
  const own = useReadContract({
    address: registry,
    abi: patientRegistryAbi,
    functionName: 'controllerOf',
    args: wallet ? [wallet] : undefined,
    chainId: config.chainId,
    query: { enabled: Boolean(registry && wallet), refetchInterval: 5000 },
  });
  const controlled = read.data && read.data !== zeroAddress ? read.data : undefined;
  const movedTo = !controlled && own.data && own.data !== zeroAddress && wallet && own.data.toLowerCase() !== wallet.toLowerCase() ? own.data : null;
  // Without a registry (or when the chain cannot say) the wallet stands for itself, as before recovery existed.
  const account = wallet ? (controlled ?? (read.isSuccess || !registry || read.isError ? wallet : undefined)) : undefined;
  return {
    account,
    controls: Boolean(controlled),
    recovered: Boolean(controlled && wallet && controlled.toLowerCase() !== wallet.toLowerCase()),
    movedTo,
    isPending: Boolean(registry && wallet) && read.isPending,
    error: read.error,
    refetch: () => void read.refetch(),
  };
}
