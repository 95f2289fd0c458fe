// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IOrganizationRegistry
/// @notice Organisations that may ask patients for access (providers, researchers, insurers...)
///         register themselves with a kind and hashes of their name and metadata; they stay pending
///         until an accreditor accredits them, for a limited time. Only hashes go on chain: the
///         name and metadata documents live off chain and are checked against them.
/// @dev Roles (OpenZeppelin AccessControl): DEFAULT_ADMIN_ROLE grants and revokes ACCREDITOR_ROLE;
///      ACCREDITOR_ROLE accredits, renews and suspends organisations.
interface IOrganizationRegistry {
    /// @notice What an organisation is. Stored as a uint8 (its position here); new kinds are only
    ///         ever appended, so the numbers never change. Patients ban kinds by bit (1 << kind).
    enum Kind {
        Provider, // 0: a clinic, hospital or practitioner treating patients
        EmergencyProvider, // 1: emergency care; the only kind that may break glass
        Researcher, // 2: a research group buying study access
        Insurer, // 3: a payer
        IRB, // 4: an institutional review board approving studies
        Issuer, // 5: issues signed credentials for eligibility proofs
        Other // 6: anything else
    }

    /// @notice One organisation as stored.
    /// @param kind What it is; fixed at registration.
    /// @param accredited Set by accredit, cleared by suspend.
    /// @param accreditedUntil When the last accreditation lapses (0 if never accredited).
    /// @param registeredAt Block timestamp of registration (0 if not registered).
    /// @param nameHash keccak256 of the organisation's legal name (as in its metadata document).
    /// @param metadataHash Hash of its off-chain metadata document (address, licences, contacts).
    struct Organization {
        Kind kind;
        bool accredited;
        uint64 accreditedUntil;
        uint64 registeredAt;
        bytes32 nameHash;
        bytes32 metadataHash;
    }

    /// @notice An organisation registered itself; it is pending until accredited.
    /// @param org The organisation's address (msg.sender).
    /// @param kind Its kind.
    /// @param nameHash Hash of its name.
    /// @param metadataHash Hash of its metadata document.
    event OrganizationRegistered(address indexed org, Kind indexed kind, bytes32 nameHash, bytes32 metadataHash);

    /// @notice An organisation replaced its name and metadata hashes (its accreditation is unchanged).
    event OrganizationUpdated(address indexed org, bytes32 nameHash, bytes32 metadataHash);

    /// @notice An accreditor accredited (or renewed) an organisation.
    /// @param org The organisation.
    /// @param accreditor Who accredited it.
    /// @param accreditedUntil When this accreditation lapses (block timestamp, exclusive).
    event OrganizationAccredited(address indexed org, address indexed accreditor, uint64 accreditedUntil);

    /// @notice An accreditor suspended an organisation: it is no longer accredited until accredited again.
    /// @param org The organisation.
    /// @param accreditor Who suspended it.
    /// @param reasonHash Hash of the reason, kept off chain.
    event OrganizationSuspended(address indexed org, address indexed accreditor, bytes32 reasonHash);

    /// @notice The caller is already registered.
    error OrganizationRegistry__AlreadyRegistered(address org);
    /// @notice The organisation is not registered.
    error OrganizationRegistry__NotRegistered(address org);
    /// @notice The name hash is zero.
    error OrganizationRegistry__ZeroNameHash();
    /// @notice An accreditation must end in the future.
    error OrganizationRegistry__ExpiryNotInFuture(uint64 accreditedUntil);
    /// @notice The organisation is not accredited, so it cannot be suspended.
    error OrganizationRegistry__NotAccredited(address org);
    /// @notice The admin address is zero.
    error OrganizationRegistry__ZeroAdmin();

    /// @notice The role that may accredit and suspend organisations.
    function ACCREDITOR_ROLE() external view returns (bytes32);

    /// @notice Register the caller as an organisation of `kind`; it is pending until accredited.
    /// @param kind What the organisation is; cannot be changed later (register another address instead).
    /// @param nameHash keccak256 of its legal name, not zero.
    /// @param metadataHash Hash of its metadata document (may be zero if it has none yet).
    function register(Kind kind, bytes32 nameHash, bytes32 metadataHash) external;

    /// @notice Replace the caller's name and metadata hashes.
    function update(bytes32 nameHash, bytes32 metadataHash) external;

    /// @notice Accredit `org` until `accreditedUntil`, or renew its accreditation. ACCREDITOR_ROLE only.
    /// @param org A registered organisation.
    /// @param accreditedUntil Block timestamp at which the accreditation lapses; in the future.
    function accredit(address org, uint64 accreditedUntil) external;

    /// @notice Suspend an accredited organisation at once. ACCREDITOR_ROLE only.
    /// @param org A currently accredited organisation.
    /// @param reasonHash Hash of the reason, kept off chain.
    function suspend(address org, bytes32 reasonHash) external;

    /// @notice Whether `org` is registered (pending, accredited, lapsed or suspended).
    function isRegistered(address org) external view returns (bool);

    /// @notice The kind of `org`; reverts if it is not registered.
    function kindOf(address org) external view returns (Kind);

    /// @notice Whether `org` is accredited now: accredited, not suspended, and the block time is
    ///         before its accreditedUntil.
    function isAccredited(address org) external view returns (bool);

    /// @notice Everything stored about `org` (all zero if not registered).
    function organizationOf(address org) external view returns (Organization memory);

    /// @notice Number of registered organisations.
    function organizationCount() external view returns (uint256);
}
