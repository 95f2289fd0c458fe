// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IOrganizationRegistry} from "./interfaces/IOrganizationRegistry.sol";

/// @title OrganizationRegistry
/// @notice Self-registered organisations, accredited for a limited time by accreditors.
contract OrganizationRegistry is IOrganizationRegistry, AccessControl {
    /// @inheritdoc IOrganizationRegistry
    bytes32 public constant ACCREDITOR_ROLE = keccak256("ACCREDITOR_ROLE");

    mapping(address org => Organization) private _organizations;
    uint256 private _organizationCount;

    /// @param admin Holds DEFAULT_ADMIN_ROLE (grants and revokes accreditors); not zero.
    /// @param accreditor Gets ACCREDITOR_ROLE at once, or nobody if zero.
    constructor(address admin, address accreditor) {
        if (admin == address(0)) revert OrganizationRegistry__ZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (accreditor != address(0)) _grantRole(ACCREDITOR_ROLE, accreditor);
    }

    /// @inheritdoc IOrganizationRegistry
    function register(Kind kind, bytes32 nameHash, bytes32 metadataHash) external {
        if (_organizations[msg.sender].registeredAt != 0) revert OrganizationRegistry__AlreadyRegistered(msg.sender);
        if (nameHash == bytes32(0)) revert OrganizationRegistry__ZeroNameHash();
        _organizations[msg.sender] = Organization({
            kind: kind,
            accredited: false,
            accreditedUntil: 0,
            registeredAt: uint64(block.timestamp),
            nameHash: nameHash,
            metadataHash: metadataHash
        });
        // Cannot overflow: one increment per distinct address.
        unchecked {
            ++_organizationCount;
        }
        emit OrganizationRegistered(msg.sender, kind, nameHash, metadataHash);
    }

    /// @inheritdoc IOrganizationRegistry
    function update(bytes32 nameHash, bytes32 metadataHash) external {
        Organization storage org = _registered(msg.sender);
        if (nameHash == bytes32(0)) revert OrganizationRegistry__ZeroNameHash();
        org.nameHash = nameHash;
        org.metadataHash = metadataHash;
        emit OrganizationUpdated(msg.sender, nameHash, metadataHash);
    }

    /// @inheritdoc IOrganizationRegistry
    function accredit(address org, uint64 accreditedUntil) external onlyRole(ACCREDITOR_ROLE) {
        Organization storage o = _registered(org);
        if (accreditedUntil <= block.timestamp) revert OrganizationRegistry__ExpiryNotInFuture(accreditedUntil);
        o.accredited = true;
        o.accreditedUntil = accreditedUntil;
        emit OrganizationAccredited(org, msg.sender, accreditedUntil);
    }

    /// @inheritdoc IOrganizationRegistry
    function suspend(address org, bytes32 reasonHash) external onlyRole(ACCREDITOR_ROLE) {
        Organization storage o = _registered(org);
        if (!_isAccredited(o)) revert OrganizationRegistry__NotAccredited(org);
        o.accredited = false;
        emit OrganizationSuspended(org, msg.sender, reasonHash);
    }

    /// @inheritdoc IOrganizationRegistry
    function isRegistered(address org) external view returns (bool) {
        return _organizations[org].registeredAt != 0;
    }

    /// @inheritdoc IOrganizationRegistry
    function kindOf(address org) external view returns (Kind) {
        return _registered(org).kind;
    }

    /// @inheritdoc IOrganizationRegistry
    function isAccredited(address org) external view returns (bool) {
        return _isAccredited(_organizations[org]);
    }

    /// @inheritdoc IOrganizationRegistry
    function organizationOf(address org) external view returns (Organization memory) {
        return _organizations[org];
    }

    /// @inheritdoc IOrganizationRegistry
    function organizationCount() external view returns (uint256) {
        return _organizationCount;
    }

    function _registered(address org) private view returns (Organization storage o) {
        o = _organizations[org];
        if (o.registeredAt == 0) revert OrganizationRegistry__NotRegistered(org);
    }

    function _isAccredited(Organization storage o) private view returns (bool) {
        return o.accredited && block.timestamp < o.accreditedUntil;
    }
}
