// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPatientRegistry} from "./interfaces/IPatientRegistry.sol";
import {X25519Key} from "./libraries/X25519Key.sol";

/// @title PatientRegistry
/// @notice The on-chain sign-up of Consentry patients: an address and its X25519 public key.
contract PatientRegistry is IPatientRegistry {
    struct PatientRecord {
        bytes32 encryptionKey;
        uint64 registeredAt;
    }

    mapping(address patient => PatientRecord) private _patients;
    uint256 private _patientCount;

    /// @inheritdoc IPatientRegistry
    function register(bytes32 encryptionKey) external {
        if (_patients[msg.sender].registeredAt != 0) revert PatientRegistry__AlreadyRegistered(msg.sender);
        if (!X25519Key.isValid(encryptionKey)) revert PatientRegistry__InvalidKey(encryptionKey);
        _patients[msg.sender] = PatientRecord({encryptionKey: encryptionKey, registeredAt: uint64(block.timestamp)});
        // Cannot overflow: one increment per distinct address.
        unchecked {
            ++_patientCount;
        }
        emit PatientRegistered(msg.sender, encryptionKey);
    }

    /// @inheritdoc IPatientRegistry
    function rotateEncryptionKey(bytes32 newKey) external {
        PatientRecord storage record = _patients[msg.sender];
        if (record.registeredAt == 0) revert PatientRegistry__NotRegistered(msg.sender);
        if (!X25519Key.isValid(newKey)) revert PatientRegistry__InvalidKey(newKey);
        bytes32 previousKey = record.encryptionKey;
        if (previousKey == newKey) revert PatientRegistry__SameKey(newKey);
        record.encryptionKey = newKey;
        emit EncryptionKeyRotated(msg.sender, previousKey, newKey);
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
}
