// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IConsentHooks} from "./interfaces/IConsentHooks.sol";
import {IConsentToken} from "./interfaces/IConsentToken.sol";

/// @title ConsentToken
/// @notice Non-transferable, expiring, revocable ERC-1155 consent to a study (id = study id).
contract ConsentToken is IConsentToken, ERC1155, AccessControl, ERC2771Context {
    /// @inheritdoc IConsentToken
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @inheritdoc IConsentToken
    IConsentHooks public hooks;

    /// @dev Per holder and study: when the consent expires (0: never granted), and whether it was revoked.
    struct Grant {
        uint64 expiresAt;
        bool revoked;
    }

    mapping(address holder => mapping(uint256 studyId => Grant)) private _grants;

    /// @param admin Holds DEFAULT_ADMIN_ROLE: grants MINTER_ROLE to the StudyRegistry and sets the hooks.
    /// @param trustedForwarder The ERC2771Forwarder through which holders revoke without ether (zero: none).
    /// @param uri_ The ERC-1155 metadata URI template (may be empty).
    constructor(address admin, address trustedForwarder, string memory uri_)
        ERC1155(uri_)
        ERC2771Context(trustedForwarder)
    {
        if (admin == address(0)) revert ConsentToken__ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IConsentToken
    function mint(address holder, uint256 studyId, uint64 expiresAt_) external onlyRole(MINTER_ROLE) {
        if (holder == address(0)) revert ConsentToken__ZeroAddress();
        if (expiresAt_ <= block.timestamp) revert ConsentToken__InvalidExpiry(expiresAt_);
        Grant storage grant = _grants[holder][studyId];
        if (grant.expiresAt != 0) revert ConsentToken__AlreadyGranted(studyId, holder);
        grant.expiresAt = expiresAt_;
        _mint(holder, studyId, 1, "");
        emit ConsentGranted(studyId, holder, expiresAt_);
        IConsentHooks h = hooks;
        if (address(h) != address(0)) h.onConsentGranted(studyId, holder, expiresAt_);
    }

    /// @inheritdoc IConsentToken
    function revoke(uint256 studyId) external {
        address holder = _msgSender();
        if (balanceOf(holder, studyId) == 0) revert ConsentToken__NotHeld(studyId, holder);
        _grants[holder][studyId].revoked = true;
        _burn(holder, studyId, 1);
        emit ConsentRevoked(studyId, holder);
        IConsentHooks h = hooks;
        if (address(h) != address(0)) h.onConsentRevoked(studyId, holder);
    }

    /// @inheritdoc IConsentToken
    function setHooks(IConsentHooks hooks_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(hooks_) == address(0)) revert ConsentToken__ZeroAddress();
        if (address(hooks) != address(0)) revert ConsentToken__HooksAlreadySet(address(hooks));
        hooks = hooks_;
        emit HooksSet(address(hooks_));
    }

    /// @inheritdoc IConsentToken
    function expiresAt(address holder, uint256 studyId) external view returns (uint64) {
        return _grants[holder][studyId].expiresAt;
    }

    /// @inheritdoc IConsentToken
    function isRevoked(address holder, uint256 studyId) external view returns (bool) {
        return _grants[holder][studyId].revoked;
    }

    /// @inheritdoc IConsentToken
    function isActive(address holder, uint256 studyId) external view returns (bool) {
        Grant storage grant = _grants[holder][studyId];
        return balanceOf(holder, studyId) == 1 && block.timestamp < grant.expiresAt && !grant.revoked;
    }

    /// @notice Refused: consent tokens have no operators.
    function setApprovalForAll(address, bool) public pure override {
        revert ConsentToken__ApprovalsDisabled();
    }

    /// @dev Only mints (from zero) and burns (to zero) pass; every move between two addresses reverts.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (from != address(0) && to != address(0)) revert ConsentToken__NonTransferable();
        super._update(from, to, ids, values);
    }

    /// @inheritdoc ERC1155
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
