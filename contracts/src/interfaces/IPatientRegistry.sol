// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPatientRegistry
/// @notice Patients register their address with an X25519 encryption public key so that
///         clients, clinicians and the release committee can seal data keys to them.
///         Only the public key is stored: never a name, never health data.
///
///         The address that registered is the patient's **account** id, for good: grants, records and
///         history stay keyed by it. The account is acted for by its **controller** wallet (at first the
///         account address itself). A patient names guardians (2 to 10 wallets) and a threshold; if the
///         controller wallet is lost, `threshold` guardians approve a recovery to a new wallet, and after
///         the patient's recovery delay the new wallet becomes the controller. The current controller can
///         cancel a recovery until it completes. Guardian changes after the first take
///         GUARDIAN_CHANGE_DELAY to come into force, and never while a recovery is active.
interface IPatientRegistry {
    /// @notice A guardian set as stored: who, how many must approve, how long a recovery waits.
    struct GuardianChange {
        address[] guardians;
        uint8 threshold;
        uint32 recoveryDelay;
        /// @dev When a pending change may be applied; 0 when none is pending.
        uint64 effectiveAt;
    }

    /// @notice The active recovery of an account (nonce 0 when none).
    struct Recovery {
        uint64 nonce;
        address newController;
        /// @dev The X25519 public key of the new wallet, to which guardians re-seal their backup shares.
        bytes32 recoveryKey;
        /// @dev Bit i set when guardian i (index in guardiansOf) approved.
        uint16 approvals;
        uint8 approvalCount;
        uint64 startedAt;
        /// @dev 0 until `threshold` guardians approved; then the quorum time plus the recovery delay.
        uint64 readyAt;
    }

    /// @notice The last completed recovery of an account (nonce 0 when none).
    struct CompletedRecovery {
        uint64 nonce;
        address previousController;
        address newController;
        bytes32 recoveryKey;
        uint64 completedAt;
    }

    /// @notice A patient registered.
    /// @param patient The patient's address (msg.sender), its account id.
    /// @param encryptionKey The patient's X25519 public key.
    event PatientRegistered(address indexed patient, bytes32 encryptionKey);

    /// @notice A patient replaced their encryption key.
    /// @param patient The patient's account.
    /// @param previousKey The key that was replaced.
    /// @param newKey The key now in force.
    event EncryptionKeyRotated(address indexed patient, bytes32 previousKey, bytes32 newKey);

    /// @notice The guardians of `account` are now `guardians` (first set, or an applied change).
    event GuardiansChanged(address indexed account, address[] guardians, uint8 threshold, uint32 recoveryDelay);

    /// @notice The controller of `account` proposed new guardians, which may be applied from `effectiveAt`.
    event GuardianChangeProposed(
        address indexed account, address[] guardians, uint8 threshold, uint32 recoveryDelay, uint64 effectiveAt
    );

    /// @notice The pending guardian change of `account` was withdrawn by its controller, or dropped
    ///         because a recovery completed.
    event GuardianChangeCancelled(address indexed account);

    /// @notice `guardian` started recovery `nonce` of `account` to `newController` (its first approval).
    event RecoveryStarted(
        address indexed account, uint64 indexed nonce, address newController, bytes32 recoveryKey, address guardian
    );

    /// @notice `guardian` approved recovery `nonce` of `account`; `approvalCount` approvals so far.
    event RecoveryApproved(address indexed account, uint64 indexed nonce, address guardian, uint8 approvalCount);

    /// @notice Recovery `nonce` of `account` reached its threshold and may be completed from `readyAt`.
    event RecoveryReady(address indexed account, uint64 indexed nonce, uint64 readyAt);

    /// @notice Recovery `nonce` of `account` was cancelled by its controller (`by`), or replaced by a
    ///         guardian's new recovery (`by` is that guardian); its approvals are void.
    event RecoveryCancelled(address indexed account, uint64 indexed nonce, address by);

    /// @notice Recovery `nonce` completed: `newController` now acts for `account`, `previousController` no longer.
    event AccountRecovered(
        address indexed account, uint64 indexed nonce, address previousController, address newController
    );

    /// @notice The caller is already registered.
    error PatientRegistry__AlreadyRegistered(address patient);
    /// @notice The queried or named address is not a registered account.
    error PatientRegistry__NotRegistered(address patient);
    /// @notice The key is not a usable X25519 public key (zero, or a known low-order point).
    error PatientRegistry__InvalidKey(bytes32 key);
    /// @notice A rotation must change the key.
    error PatientRegistry__SameKey(bytes32 key);
    /// @notice `wallet` already controls an account (it was moved there by a recovery), so it cannot register.
    error PatientRegistry__ControlsAccount(address wallet);
    /// @notice The caller controls no account (never registered, or its account was recovered to another wallet).
    error PatientRegistry__NotController(address caller);
    /// @notice A guardian set needs between 2 and MAX_GUARDIANS guardians.
    error PatientRegistry__InvalidGuardianCount(uint256 count);
    /// @notice The threshold must be at least 2 and at most the number of guardians.
    error PatientRegistry__InvalidThreshold(uint8 threshold, uint256 count);
    /// @notice A guardian may not be zero, repeated, the account itself or its controller.
    error PatientRegistry__InvalidGuardian(address guardian);
    /// @notice The recovery delay must be between MIN_RECOVERY_DELAY and MAX_RECOVERY_DELAY.
    error PatientRegistry__InvalidRecoveryDelay(uint32 recoveryDelay);
    /// @notice `account` has no pending guardian change.
    error PatientRegistry__NoPendingGuardianChange(address account);
    /// @notice The pending guardian change of `account` may not be applied before `effectiveAt`.
    error PatientRegistry__GuardianChangeNotReady(address account, uint64 effectiveAt);
    /// @notice Recovery `nonce` of `account` is active, which forbids this.
    error PatientRegistry__RecoveryActive(address account, uint64 nonce);
    /// @notice `account` has named no guardians, so it cannot be recovered.
    error PatientRegistry__NoGuardians(address account);
    /// @notice `caller` is not a guardian of `account`.
    error PatientRegistry__NotGuardian(address account, address caller);
    /// @notice The new controller must be a fresh wallet: non-zero, not registered, controlling no account
    ///         and not a guardian of the account.
    error PatientRegistry__InvalidNewController(address newController);
    /// @notice `account` has no active recovery.
    error PatientRegistry__NoActiveRecovery(address account);
    /// @notice The approval names recovery `nonce` but the active recovery of `account` is `activeNonce`.
    error PatientRegistry__WrongRecovery(address account, uint64 nonce, uint64 activeNonce);
    /// @notice `guardian` already approved recovery `nonce` of `account`.
    error PatientRegistry__AlreadyApproved(address account, uint64 nonce, address guardian);
    /// @notice The recovery has `approvalCount` of the `threshold` approvals it needs.
    error PatientRegistry__NotEnoughApprovals(address account, uint8 approvalCount, uint8 threshold);
    /// @notice The recovery may not complete before `readyAt`.
    error PatientRegistry__RecoveryNotReady(address account, uint64 readyAt);

    /// @notice Delay before a guardian change (other than the first set) may be applied: 48 hours.
    function GUARDIAN_CHANGE_DELAY() external view returns (uint32);

    /// @notice Shortest recovery delay a patient may choose: 1 day.
    function MIN_RECOVERY_DELAY() external view returns (uint32);

    /// @notice Longest recovery delay a patient may choose: 30 days.
    function MAX_RECOVERY_DELAY() external view returns (uint32);

    /// @notice Most guardians an account may name: 10.
    function MAX_GUARDIANS() external view returns (uint8);

    /// @notice How long an active recovery that has not reached its threshold blocks another: a guardian may
    ///         replace it by a new one after this (7 days), so one guardian cannot hold an account hostage.
    function RECOVERY_QUORUM_WINDOW() external view returns (uint32);

    /// @notice Register the caller as a patient with `encryptionKey`; the caller becomes its own account
    ///         and controller. Refused for a wallet that already controls an account.
    /// @param encryptionKey X25519 public key (32 bytes, little-endian u-coordinate).
    function register(bytes32 encryptionKey) external;

    /// @notice Replace the encryption key of the account the caller controls.
    /// @param newKey The new X25519 public key.
    function rotateEncryptionKey(bytes32 newKey) external;

    /// @notice Name the guardians of the account the caller controls. The first set is in force at once;
    ///         a later one is pending until GUARDIAN_CHANGE_DELAY has passed and applyGuardianChange is called
    ///         (it replaces any pending one).
    /// @param guardians 2 to MAX_GUARDIANS distinct non-zero wallets, none the account or its controller.
    /// @param threshold How many guardians must approve a recovery, at least 2 and at most guardians.length.
    /// @param recoveryDelay Seconds a recovery waits after reaching its threshold, in
    ///        [MIN_RECOVERY_DELAY, MAX_RECOVERY_DELAY]; clients default to 48 hours.
    function setGuardians(address[] calldata guardians, uint8 threshold, uint32 recoveryDelay) external;

    /// @notice Put the pending guardian change of `account` in force. Anyone may call it once its
    ///         effectiveAt has passed; refused while a recovery of the account is active.
    function applyGuardianChange(address account) external;

    /// @notice Withdraw the pending guardian change of the account the caller controls.
    function cancelGuardianChange() external;

    /// @notice As a guardian of `account`, start a recovery moving its control to `newController`;
    ///         counts as the caller's approval. Refused while another recovery is active, unless that one
    ///         has not reached its threshold within RECOVERY_QUORUM_WINDOW or its new controller can no longer
    ///         take the account; then it is replaced (RecoveryCancelled) and its approvals are void.
    /// @param recoveryKey The new wallet's X25519 public key (guardians re-seal backup shares to it).
    function startRecovery(address account, address newController, bytes32 recoveryKey) external;

    /// @notice As a guardian of `account`, approve its active recovery `nonce` (once per guardian).
    function approveRecovery(address account, uint64 nonce) external;

    /// @notice As the controller, cancel the active recovery of your account; its approvals are void.
    function cancelRecovery() external;

    /// @notice Complete the active recovery of `account`: anyone may, once it has `threshold` approvals
    ///         and its readyAt has passed. The new controller acts for the account from now on, the old
    ///         one no longer; a pending guardian change is dropped. The encryption key is unchanged (the new
    ///         controller rotates it to its recovery key once records are re-sealed).
    function completeRecovery(address account) external;

    /// @notice The account `wallet` controls; 0 if it controls none.
    function accountOf(address wallet) external view returns (address account);

    /// @notice The wallet that controls `account`; 0 if `account` is not registered.
    function controllerOf(address account) external view returns (address);

    /// @notice The guardians in force for `account` (empty, 0, 0 when none were named).
    function guardiansOf(address account)
        external
        view
        returns (address[] memory guardians, uint8 threshold, uint32 recoveryDelay);

    /// @notice The pending guardian change of `account` (effectiveAt 0 when none).
    function pendingGuardianChange(address account) external view returns (GuardianChange memory);

    /// @notice The active recovery of `account` (nonce 0 when none).
    function recoveryOf(address account) external view returns (Recovery memory);

    /// @notice The last completed recovery of `account` (nonce 0 when none).
    function completedRecovery(address account) external view returns (CompletedRecovery memory);

    /// @notice Whether `patient` is a registered account.
    function isRegistered(address patient) external view returns (bool);

    /// @notice The current encryption key of account `patient`; reverts if not registered.
    function encryptionKeyOf(address patient) external view returns (bytes32);

    /// @notice Block timestamp at which `patient` registered (0 if never).
    function registeredAt(address patient) external view returns (uint64);

    /// @notice Number of registered patients.
    function patientCount() external view returns (uint256);
}
