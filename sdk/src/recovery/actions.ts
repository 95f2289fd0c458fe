/**
 * The recovery transactions of PatientRegistry (decision 031), browser-safe: a patient names
 * guardians (the first set at once, a later change after 48 hours), guardians start and approve a
 * recovery to a new wallet, the old wallet cancels it, anyone completes it once the quorum has waited
 * the patient's delay, and the new wallet rotates the account's encryption key. Like the access
 * actions, each simulates first (a refusal becomes the contract's custom error in words before anyone
 * pays), sends with an explicit gas limit, waits for the receipt and returns the decoded events.
 *
 * `readRecoveryState` reads everything a page or the CLI shows about one account in one go.
 */
import {
  parseEventLogs,
  zeroAddress,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { patientRegistryAbi } from '../abi/generated.ts';
import { ActionRefusedError, ALL_ABIS, describeRevert, revertOf, type ActionResult } from '../access/actions.ts';

/** What clients propose as the recovery delay: 48 hours (the contract allows 1 to 30 days). */
export const DEFAULT_RECOVERY_DELAY_S = 48 * 3600;
export const MIN_RECOVERY_DELAY_S = 24 * 3600;
export const MAX_RECOVERY_DELAY_S = 30 * 24 * 3600;

export interface RecoveryActionContext {
  wallet: WalletClient<Transport, Chain | undefined, Account>;
  client: PublicClient;
  /** The PatientRegistry's address. */
  registry: Address;
  /** Receipt wait limit (default 120 s). */
  timeoutMs?: number;
}

// Explicit limits, measured on anvil with margin: setGuardians and applyGuardianChange write up to
// ten guardians (and clear the ones before), the others a few slots.
const GAS: Record<string, bigint> = {
  setGuardians: 900_000n,
  applyGuardianChange: 900_000n,
  cancelGuardianChange: 400_000n,
  startRecovery: 350_000n,
  approveRecovery: 200_000n,
  cancelRecovery: 150_000n,
  completeRecovery: 400_000n,
  rotateEncryptionKey: 120_000n,
};

async function send(ctx: RecoveryActionContext, functionName: keyof typeof GAS, args: readonly unknown[]): Promise<ActionResult> {
  const account = ctx.wallet.account;
  const call = { address: ctx.registry, abi: patientRegistryAbi, functionName, args, account } as unknown as Parameters<PublicClient['simulateContract']>[0];
  try {
    await ctx.client.simulateContract(call);
  } catch (err) {
    const words = describeRevert(err);
    if (words) throw new ActionRefusedError(revertOf(err)!.errorName, words);
    throw err;
  }
  const hash = await ctx.wallet.writeContract({ ...call, chain: ctx.wallet.chain ?? null, gas: GAS[functionName] } as unknown as Parameters<typeof ctx.wallet.writeContract>[0]);
  const receipt = await ctx.client.waitForTransactionReceipt({ hash, timeout: ctx.timeoutMs ?? 120_000 });
  if (receipt.status !== 'success') throw new ActionRefusedError('Reverted', `The ${functionName} transaction was reverted on chain`, hash);
  const block = await ctx.client.getBlock({ blockNumber: receipt.blockNumber });
  const events = parseEventLogs({ abi: ALL_ABIS, logs: receipt.logs }).map((l) => ({ eventName: l.eventName, args: l.args as Record<string, unknown> }));
  return { hash, blockNumber: receipt.blockNumber, blockTimestamp: block.timestamp, events };
}

/**
 * Names the guardians of the account the wallet controls: in force at once the first time; later a
 * pending change that `applyGuardianChange` puts in force after 48 hours.
 */
export function setGuardians(ctx: RecoveryActionContext, g: { guardians: readonly Address[]; threshold: number; recoveryDelaySeconds?: number }): Promise<ActionResult> {
  return send(ctx, 'setGuardians', [g.guardians, g.threshold, g.recoveryDelaySeconds ?? DEFAULT_RECOVERY_DELAY_S]);
}

/** Puts an account's pending guardian change in force (anyone may, once its time has come). */
export function applyGuardianChange(ctx: RecoveryActionContext, account: Address): Promise<ActionResult> {
  return send(ctx, 'applyGuardianChange', [account]);
}

/** Withdraws the pending guardian change of the account the wallet controls. */
export function cancelGuardianChange(ctx: RecoveryActionContext): Promise<ActionResult> {
  return send(ctx, 'cancelGuardianChange', []);
}

/** A guardian starts a recovery of `account` to `newController` (counts as its approval); resolves with the recovery's nonce. */
export async function startRecovery(ctx: RecoveryActionContext, r: { account: Address; newController: Address; recoveryKey: Hex }): Promise<ActionResult & { nonce: bigint }> {
  const result = await send(ctx, 'startRecovery', [r.account, r.newController, r.recoveryKey]);
  const started = result.events.find((e) => e.eventName === 'RecoveryStarted');
  return { ...result, nonce: started ? (started.args.nonce as bigint) : 0n };
}

/** A guardian approves recovery `nonce` of `account`. */
export function approveRecovery(ctx: RecoveryActionContext, r: { account: Address; nonce: bigint }): Promise<ActionResult> {
  return send(ctx, 'approveRecovery', [r.account, r.nonce]);
}

/** The account's current controller cancels its active recovery. */
export function cancelRecovery(ctx: RecoveryActionContext): Promise<ActionResult> {
  return send(ctx, 'cancelRecovery', []);
}

/** Completes the active recovery of `account` once it has its approvals and has waited its delay (anyone may). */
export function completeRecovery(ctx: RecoveryActionContext, account: Address): Promise<ActionResult> {
  return send(ctx, 'completeRecovery', [account]);
}

/** Replaces the encryption key of the account the wallet controls. */
export function rotateEncryptionKey(ctx: RecoveryActionContext, newKey: Hex): Promise<ActionResult> {
  return send(ctx, 'rotateEncryptionKey', [newKey]);
}

export interface GuardianSet {
  guardians: Address[];
  threshold: number;
  /** Seconds a recovery waits after its quorum. */
  recoveryDelay: number;
}

export interface RecoveryState {
  account: Address;
  /** The wallet acting for the account; null when the account is not registered. */
  controller: Address | null;
  /** The account's encryption key on chain; null when not registered. */
  encryptionKey: Hex | null;
  guardians: Address[];
  threshold: number;
  recoveryDelay: number;
  pendingChange: (GuardianSet & { effectiveAt: bigint }) | null;
  active: {
    nonce: bigint;
    newController: Address;
    recoveryKey: Hex;
    /** The guardians who approved (in guardiansOf order). */
    approvedBy: Address[];
    approvalCount: number;
    startedAt: bigint;
    /** 0 until the quorum is reached. */
    readyAt: bigint;
  } | null;
  completed: { nonce: bigint; previousController: Address; newController: Address; recoveryKey: Hex; completedAt: bigint } | null;
  /** The latest block's timestamp, to compare readyAt and effectiveAt with. */
  now: bigint;
}

/** Everything the chain says about one account's guardians and recoveries. */
export async function readRecoveryState(client: PublicClient, registry: Address, account: Address): Promise<RecoveryState> {
  const read = { address: registry, abi: patientRegistryAbi } as const;
  const [controller, [guardians, threshold, recoveryDelay], pending, active, completed, block] = await Promise.all([
    client.readContract({ ...read, functionName: 'controllerOf', args: [account] }),
    client.readContract({ ...read, functionName: 'guardiansOf', args: [account] }),
    client.readContract({ ...read, functionName: 'pendingGuardianChange', args: [account] }),
    client.readContract({ ...read, functionName: 'recoveryOf', args: [account] }),
    client.readContract({ ...read, functionName: 'completedRecovery', args: [account] }),
    client.getBlock({ blockTag: 'latest' }),
  ]);
  const registered = controller !== zeroAddress;
  const encryptionKey = registered ? await client.readContract({ ...read, functionName: 'encryptionKeyOf', args: [account] }) : null;
  return {
    account,
    controller: registered ? controller : null,
    encryptionKey,
    guardians: [...guardians],
    threshold: Number(threshold),
    recoveryDelay: Number(recoveryDelay),
    pendingChange:
      pending.effectiveAt === 0n
        ? null
        : { guardians: [...pending.guardians], threshold: Number(pending.threshold), recoveryDelay: Number(pending.recoveryDelay), effectiveAt: pending.effectiveAt },
    active:
      active.nonce === 0n
        ? null
        : {
            nonce: active.nonce,
            newController: active.newController,
            recoveryKey: active.recoveryKey,
            approvedBy: guardians.filter((_, i) => (Number(active.approvals) & (1 << i)) !== 0),
            approvalCount: Number(active.approvalCount),
            startedAt: active.startedAt,
            readyAt: active.readyAt,
          },
    completed:
      completed.nonce === 0n
        ? null
        : { nonce: completed.nonce, previousController: completed.previousController, newController: completed.newController, recoveryKey: completed.recoveryKey, completedAt: completed.completedAt },
    now: block.timestamp,
  };
}

/**
 * Which account a wallet acts for: the one it controls, or itself when it controls none (a wallet
 * that never registered, a clinician). `movedTo` is set when the wallet registered an account that
 * a recovery moved to another wallet: it no longer acts for anything, and must not act as itself.
 */
export async function patientAccountOf(client: PublicClient, registry: Address, wallet: Address): Promise<{ account: Address; controls: boolean; movedTo: Address | null }> {
  const read = { address: registry, abi: patientRegistryAbi } as const;
  const [account, ownController] = await Promise.all([
    client.readContract({ ...read, functionName: 'accountOf', args: [wallet] }),
    client.readContract({ ...read, functionName: 'controllerOf', args: [wallet] }),
  ]);
  if (account !== zeroAddress) return { account, controls: true, movedTo: null };
  return { account: wallet, controls: false, movedTo: ownController !== zeroAddress && ownController.toLowerCase() !== wallet.toLowerCase() ? ownController : null };
}
