// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPatientRegistry
/// @notice Patients register their address with an X25519 encryption public key so that
///         clients, clinicians and the release committee can seal data keys to them.
///         Only the public key is stored: never a name, never health data.
interface IPatientRegistry {
    /// @notice A patient registered.
    /// @param patient The patient's address (msg.sender).
    /// @param encryptionKey The patient's X25519 public key.
    event PatientRegistered(address indexed patient, bytes32 encryptionKey);

    /// @notice A patient replaced their encryption key.
    /// @param patient The patient's address.
    /// @param previousKey The key that was replaced.
    /// @param newKey The key now in force.
    event EncryptionKeyRotated(address indexed patient, bytes32 previousKey, bytes32 newKey);

    /// @notice The caller is already registered.
    error PatientRegistry__AlreadyRegistered(address patient);
    /// @notice The caller (or queried address) is not registered.
    error PatientRegistry__NotRegistered(address patient);
    /// @notice The key is not a usable X25519 public key (zero, or a known low-order point).
    error PatientRegistry__InvalidKey(bytes32 key);
    /// @notice A rotation must change the key.
    error PatientRegistry__SameKey(bytes32 key);

    /// @notice Register the caller as a patient with `encryptionKey`.
    /// @param encryptionKey X25519 public key (32 bytes, little-endian u-coordinate).
    function register(bytes32 encryptionKey) external;

    /// @notice Replace the caller's encryption key.
    /// @param newKey The new X25519 public key.
    function rotateEncryptionKey(bytes32 newKey) external;

    /// @notice Whether `patient` is registered.
    function isRegistered(address patient) external view returns (bool);

    /// @notice The current encryption key of `patient`; reverts if not registered.
    function encryptionKeyOf(address patient) external view returns (bytes32);

    /// @notice Block timestamp at which `patient` registered (0 if never).
    function registeredAt(address patient) external view returns (uint64);

    /// @notice Number of registered patients.
    function patientCount() external view returns (uint256);
}
