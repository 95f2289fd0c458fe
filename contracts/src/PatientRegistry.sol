// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPatientRegistry} from "./interfaces/IPatientRegistry.sol";
import {X25519Key} from "./libraries/X25519Key.sol";

/// @title PatientRegistry
/// @notice The on-chain sign-up of Consentry patients (an account and its X25519 public key), the
///         wallet that controls each account, and guardian recovery of that control.
contract PatientRegistry is IPatientRegistry {
    struct PatientRecord {
        bytes32 encryptionKey;
        uint64 registeredAt;
        address controller;
    }

    struct GuardianSet {
        address[] guardians;
        uint8 threshold;
        uint32 recoveryDelay;
    }

    /// @inheritdoc IPatientRegistry
    uint32 public constant GUARDIAN_CHANGE_DELAY = 48 hours;
    /// @inheritdoc IPatientRegistry
    uint32 public constant MIN_RECOVERY_DELAY = 1 days;
    /// @inheritdoc IPatientRegistry
    uint32 public constant MAX_RECOVERY_DELAY = 30 days;
    /// @inheritdoc IPatientRegistry
    uint8 public constant MAX_GUARDIANS = 10;
    /// @inheritdoc IPatientRegistry
    uint32 public constant RECOVERY_QUORUM_WINDOW = 7 days;

    mapping(address patient => PatientRecord) private _patients;
    mapping(address wallet => address account) private _accounts;
    mapping(address account => GuardianSet) private _guardians;
    mapping(address account => GuardianChange) private _pendingChanges;
    mapping(address account => Recovery) private _recoveries;
    mapping(address account => uint64) private _lastRecoveryNonce;
    mapping(address account => CompletedRecovery) private _completed;
    uint256 private _patientCount;

    // ------------------------------------------------------------------ registration and keys

    /// @inheritdoc IPatientRegistry
    function register(bytes32 encryptionKey) external {
        if (_patients[msg.sender].registeredAt != 0) revert PatientRegistry__AlreadyRegistered(msg.sender);
        if (_accounts[msg.sender] != address(0)) revert PatientRegistry__ControlsAccount(msg.sender);
        if (!X25519Key.isValid(encryptionKey)) revert PatientRegistry__InvalidKey(encryptionKey);
        _patients[msg.sender] =
            PatientRecord({encryptionKey: encryptionKey, registeredAt: uint64(block.timestamp), controller: msg.sender});
        _accounts[msg.sender] = msg.sender;
        // Cannot overflow: one increment per distinct address.
        unchecked {
            ++_patientCount;
        }
        emit PatientRegistered(msg.sender, encryptionKey);
    }

    /// @inheritdoc IPatientRegistry
    function rotateEncryptionKey(bytes32 newKey) external {
        address account = _controlledAccount();
        PatientRecord storage record = _patients[account];
        if (!X25519Key.isValid(newKey)) revert PatientRegistry__InvalidKey(newKey);
        bytes32 previousKey = record.encryptionKey;
        if (previousKey == newKey) revert PatientRegistry__SameKey(newKey);
        record.encryptionKey = newKey;
        emit EncryptionKeyRotated(account, previousKey, newKey);
    }

    // ------------------------------------------------------------------ guardians

    /// @inheritdoc IPatientRegistry
    function setGuardians(address[] calldata guardians, uint8 threshold, uint32 recoveryDelay) external {
        address account = _controlledAccount();
        _checkGuardians(account, guardians, threshold, recoveryDelay);
        GuardianSet storage current = _guardians[account];
        if (current.guardians.length == 0) {
            current.guardians = guardians;
            current.threshold = threshold;
            current.recoveryDelay = recoveryDelay;
            emit GuardiansChanged(account, guardians, threshold, recoveryDelay);
            return;
        }
        uint64 effectiveAt;
        // Cannot overflow: block.timestamp + 48 hours stays far below 2^64.
        unchecked {
            effectiveAt = uint64(block.timestamp) + GUARDIAN_CHANGE_DELAY;
        }
        GuardianChange storage pending = _pendingChanges[account];
        pending.guardians = guardians;
        pending.threshold = threshold;
        pending.recoveryDelay = recoveryDelay;
        pending.effectiveAt = effectiveAt;
        emit GuardianChangeProposed(account, guardians, threshold, recoveryDelay, effectiveAt);
    }

    /// @inheritdoc IPatientRegistry
    function applyGuardianChange(address account) external {
        GuardianChange storage pending = _pendingChanges[account];
        uint64 effectiveAt = pending.effectiveAt;
        if (effectiveAt == 0) revert PatientRegistry__NoPendingGuardianChange(account);
        if (block.timestamp < effectiveAt) revert PatientRegistry__GuardianChangeNotReady(account, effectiveAt);
        uint64 active = _recoveries[account].nonce;
        if (active != 0) revert PatientRegistry__RecoveryActive(account, active);
        GuardianSet storage current = _guardians[account];
        current.guardians = pending.guardians;
        current.threshold = pending.threshold;
        current.recoveryDelay = pending.recoveryDelay;
        delete _pendingChanges[account];
        emit GuardiansChanged(account, current.guardians, current.threshold, current.recoveryDelay);
    }

    /// @inheritdoc IPatientRegistry
    function cancelGuardianChange() external {
        address account = _controlledAccount();
        if (_pendingChanges[account].effectiveAt == 0) revert PatientRegistry__NoPendingGuardianChange(account);
        delete _pendingChanges[account];
        emit GuardianChangeCancelled(account);
    }

    // ------------------------------------------------------------------ recovery

    /// @inheritdoc IPatientRegistry
    function startRecovery(address account, address newController, bytes32 recoveryKey) external {
        GuardianSet storage set = _guardians[account];
        uint256 index = _guardianIndex(account, set.guardians, msg.sender);
        if (!_canTakeControl(newController) || _isGuardian(set.guardians, newController)) {
            revert PatientRegistry__InvalidNewController(newController);
        }
        if (!X25519Key.isValid(recoveryKey)) revert PatientRegistry__InvalidKey(recoveryKey);

        Recovery storage recovery = _recoveries[account];
        uint64 activeNonce = recovery.nonce;
        if (activeNonce != 0) {
            // A recovery that reached its threshold runs to completion or the controller's cancel. One that did
            // not, within the window, or whose new wallet took another account meanwhile, cannot block the
            // guardians for ever: it is replaced.
            bool stale = recovery.readyAt == 0 && block.timestamp >= uint256(recovery.startedAt) + RECOVERY_QUORUM_WINDOW;
            if (!stale && _canTakeControl(recovery.newController)) {
                revert PatientRegistry__RecoveryActive(account, activeNonce);
            }
            emit RecoveryCancelled(account, activeNonce, msg.sender);
        }

        uint64 nonce;
        // Cannot overflow: one increment per started recovery, each a transaction.
        unchecked {
            nonce = ++_lastRecoveryNonce[account];
        }
        _recoveries[account] = Recovery({
            nonce: nonce,
            newController: newController,
            recoveryKey: recoveryKey,
            approvals: _bitOf(index),
            approvalCount: 1,
            startedAt: uint64(block.timestamp),
            readyAt: 0
        });
        emit RecoveryStarted(account, nonce, newController, recoveryKey, msg.sender);
    }

    /// @inheritdoc IPatientRegistry
    function approveRecovery(address account, uint64 nonce) external {
        GuardianSet storage set = _guardians[account];
        uint256 index = _guardianIndex(account, set.guardians, msg.sender);
        Recovery storage recovery = _recoveries[account];
        uint64 activeNonce = recovery.nonce;
        if (activeNonce == 0) revert PatientRegistry__NoActiveRecovery(account);
        if (nonce != activeNonce) revert PatientRegistry__WrongRecovery(account, nonce, activeNonce);
        uint16 bit = _bitOf(index);
        if (recovery.approvals & bit != 0) revert PatientRegistry__AlreadyApproved(account, nonce, msg.sender);
        recovery.approvals |= bit;
        uint8 count;
        // Cannot overflow: one increment per distinct guardian, at most MAX_GUARDIANS.
        unchecked {
            count = recovery.approvalCount + 1;
        }
        recovery.approvalCount = count;
        emit RecoveryApproved(account, nonce, msg.sender, count);
        if (count == set.threshold) {
            uint64 readyAt;
            // Cannot overflow: block.timestamp + at most 30 days stays far below 2^64.
            unchecked {
                readyAt = uint64(block.timestamp) + set.recoveryDelay;
            }
            recovery.readyAt = readyAt;
            emit RecoveryReady(account, nonce, readyAt);
        }
    }

    /// @inheritdoc IPatientRegistry
    function cancelRecovery() external {
        address account = _controlledAccount();
        uint64 nonce = _recoveries[account].nonce;
        if (nonce == 0) revert PatientRegistry__NoActiveRecovery(account);
        delete _recoveries[account];
        emit RecoveryCancelled(account, nonce, msg.sender);
    }

    /// @inheritdoc IPatientRegistry
    function completeRecovery(address account) external {
        Recovery memory recovery = _recoveries[account];
        if (recovery.nonce == 0) revert PatientRegistry__NoActiveRecovery(account);
        uint8 threshold = _guardians[account].threshold;
        if (recovery.approvalCount < threshold) {
            revert PatientRegistry__NotEnoughApprovals(account, recovery.approvalCount, threshold);
        }
        if (block.timestamp < recovery.readyAt) revert PatientRegistry__RecoveryNotReady(account, recovery.readyAt);
        address newController = recovery.newController;
        // The wallet may have registered or taken another account since the recovery started.
        if (!_canTakeControl(newController)) revert PatientRegistry__InvalidNewController(newController);

        PatientRecord storage record = _patients[account];
        address previousController = record.controller;
        delete _accounts[previousController];
        _accounts[newController] = account;
        record.controller = newController;
        _completed[account] = CompletedRecovery({
            nonce: recovery.nonce,
            previousController: previousController,
            newController: newController,
            recoveryKey: recovery.recoveryKey,
            completedAt: uint64(block.timestamp)
        });
        delete _recoveries[account];
        if (_pendingChanges[account].effectiveAt != 0) {
            // A change proposed by the lost (or stolen) wallet must not outlive it.
            delete _pendingChanges[account];
            emit GuardianChangeCancelled(account);
        }
        emit AccountRecovered(account, recovery.nonce, previousController, newController);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPatientRegistry
    function accountOf(address wallet) external view returns (address account) {
        return _accounts[wallet];
    }

    /// @inheritdoc IPatientRegistry
    function controllerOf(address account) external view returns (address) {
        return _patients[account].controller;
    }

    /// @inheritdoc IPatientRegistry
    function guardiansOf(address account)
        external
        view
        returns (address[] memory guardians, uint8 threshold, uint32 recoveryDelay)
    {
        GuardianSet storage set = _guardians[account];
        return (set.guardians, set.threshold, set.recoveryDelay);
    }

    /// @inheritdoc IPatientRegistry
    function pendingGuardianChange(address account) external view returns (GuardianChange memory) {
        return _pendingChanges[account];
    }

    /// @inheritdoc IPatientRegistry
    function recoveryOf(address account) external view returns (Recovery memory) {
        return _recoveries[account];
    }

    /// @inheritdoc IPatientRegistry
    function completedRecovery(address account) external view returns (CompletedRecovery memory) {
        return _completed[account];
    }

    /// @inheritdoc IPatientRegistry
    function isRegistered(address patient) external view returns (bool) {
        return _patients[patient].registeredAt != 0;
    }

    /// @inheritdoc IPatientRegistry
    function encryptionKeyOf(address patient) external view returns (bytes32) {
        PatientRecord storage record = _patients[patient];
        if (record.registeredAt == 0) revert PatientRegistry__NotRegistered(patient);
        return record.encryptionKey;
    }

    /// @inheritdoc IPatientRegistry
    function registeredAt(address patient) external view returns (uint64) {
        return _patients[patient].registeredAt;
    }

    /// @inheritdoc IPatientRegistry
    function patientCount() external view returns (uint256) {
        return _patientCount;
    }

    // ------------------------------------------------------------------ internals

    /// @dev The account msg.sender controls; reverts when it controls none.
    function _controlledAccount() private view returns (address account) {
        account = _accounts[msg.sender];
        if (account == address(0)) revert PatientRegistry__NotController(msg.sender);
    }

    /// @dev A wallet that may become a controller: non-zero, never registered, controlling nothing.
    function _canTakeControl(address wallet) private view returns (bool) {
        return wallet != address(0) && _patients[wallet].registeredAt == 0 && _accounts[wallet] == address(0);
    }

    /// @dev Index of `caller` among `guardians` of `account`; reverts when there are none or it is not one.
    function _guardianIndex(address account, address[] storage guardians, address caller)
        private
        view
        returns (uint256)
    {
        uint256 count = guardians.length;
        if (count == 0) revert PatientRegistry__NoGuardians(account);
        for (uint256 i = 0; i < count; ++i) {
            if (guardians[i] == caller) return i;
        }
        revert PatientRegistry__NotGuardian(account, caller);
    }

    /// @dev The approvals bit of guardian `index`.
    function _bitOf(uint256 index) private pure returns (uint16) {
        // casting to 'uint16' is safe because index < MAX_GUARDIANS = 10; the literal 1 is what is shifted
        // forge-lint: disable-next-line(unsafe-typecast,incorrect-shift)
        return uint16(1 << index);
    }

    function _isGuardian(address[] storage guardians, address wallet) private view returns (bool) {
        uint256 count = guardians.length;
        for (uint256 i = 0; i < count; ++i) {
            if (guardians[i] == wallet) return true;
        }
        return false;
    }

    /// @dev Reverts unless the set is 2..MAX_GUARDIANS distinct non-zero wallets other than the account and
    ///      the caller (its controller), with 2 <= threshold <= count and an allowed delay.
    function _checkGuardians(address account, address[] calldata guardians, uint8 threshold, uint32 recoveryDelay)
        private
        view
    {
        uint256 count = guardians.length;
        if (count < 2 || count > MAX_GUARDIANS) revert PatientRegistry__InvalidGuardianCount(count);
        if (threshold < 2 || threshold > count) revert PatientRegistry__InvalidThreshold(threshold, count);
        if (recoveryDelay < MIN_RECOVERY_DELAY || recoveryDelay > MAX_RECOVERY_DELAY) {
            revert PatientRegistry__InvalidRecoveryDelay(recoveryDelay);
        }
        for (uint256 i = 0; i < count; ++i) {
            address guardian = guardians[i];
            if (guardian == address(0) || guardian == account || guardian == msg.sender) {
                revert PatientRegistry__InvalidGuardian(guardian);
            }
            for (uint256 j = 0; j < i; ++j) {
                if (guardians[j] == guardian) revert PatientRegistry__InvalidGuardian(guardian);
            }
        }
    }
}
