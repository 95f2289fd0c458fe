/**
 * A patient page's first step: the encryption key (derived in this browser from a free signature)
 * and a signed-in session, both asked for with one button. Shared by the pages that decrypt the
 * patient's own records (My records, Studies).
 */
import { useState, useSyncExternalStore } from 'react';
import type { Address } from 'viem';
import { useConfig } from 'wagmi';
import { signTypedData } from 'wagmi/actions';
import { deriveEncryptionKeyPair, keyDerivationTypedData, type EncryptionKeyPair } from '@consentry/sdk/keys';
import { describeError } from './errors.ts';
import { keyFor, loadIdentityRoot, rememberKey, subscribeKeys } from './keyring.ts';
import type { PublicConfig } from './public-config.ts';
import { ensureSession } from './records.client.ts';

export interface OpenKeys {
  /** The key pair once derived (kept for this tab by the keyring). */
  keys: EncryptionKeyPair | undefined;
  /** Key derived and session open: the page may show the patient's own data. */
  open: boolean;
  busy: boolean;
  problem: string | null;
  /** Asks the wallet for what is missing (the key signature, the session signature). */
  unlock: () => Promise<void>;
}

/**
 * `address` is the wallet (it signs); `account`, when known, is the patient account it acts for
 * (usePatientAccount): a session made for another account (before a recovery completed) is renewed.
 */
export function useOpenKeys(address: Address, config: PublicConfig, account?: Address): OpenKeys {
  const wagmiConfig = useConfig();
  const keys = useSyncExternalStore(subscribeKeys, () => keyFor(address), () => undefined);
  const [signedIn, setSignedIn] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const unlock = async () => {
    setBusy(true);
    setProblem(null);
    try {
      if (!keyFor(address)) {
        const signature = await signTypedData(wagmiConfig, { account: address, ...keyDerivationTypedData(config.chainId) });
        rememberKey(address, deriveEncryptionKeyPair(signature));
      }
      await ensureSession(wagmiConfig, address, config.chainId, account);
      // After a rotation the zk identity derives from the account's first key, kept in its keyring.
      await loadIdentityRoot(keyFor(address)!);
      setSignedIn(true);
    } catch (err) {
      setProblem(describeError(err, { rpcUrl: config.rpcUrl, stage: 'signing' }));
    } finally {
      setBusy(false);
    }
  };

  return { keys, open: Boolean(keys) && signedIn, busy, problem, unlock };
}
