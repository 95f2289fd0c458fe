// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IConsentHooks} from "./IConsentHooks.sol";

/// @title IConsentToken
/// @notice A participant's consent to one study, as an ERC-1155 token whose id is the study id.
///         Minted (one per participant per study) by the StudyRegistry on enrollment; it cannot be
///         moved (every transfer between two non-zero addresses reverts, and so does every
///         approval); it expires after the study's consent duration; its holder may revoke it at
///         any time, which burns it. `isActive` says, by block time, whether a consent counts.
/// @dev Roles (OpenZeppelin AccessControl): DEFAULT_ADMIN_ROLE grants MINTER_ROLE (to the
///      StudyRegistry only) and sets the hooks once. ERC-2771 aware: revoke through the trusted
///      forwarder acts for the request's signer, so a per-study address never needs ether.
interface IConsentToken {
    /// @notice A consent token was minted.
    /// @param studyId The study (token id).
    /// @param holder Its holder.
    /// @param expiresAt When it stops being active.
    event ConsentGranted(uint256 indexed studyId, address indexed holder, uint64 expiresAt);

    /// @notice A holder revoked its consent (the token was burnt).
    /// @param studyId The study (token id).
    /// @param holder The former holder.
    event ConsentRevoked(uint256 indexed studyId, address indexed holder);

    /// @notice The hooks contract was set (once).
    /// @param hooks The contract told of grants and revocations.
    event HooksSet(address indexed hooks);

    /// @notice Consent tokens never move between two addresses.
    error ConsentToken__NonTransferable();
    /// @notice Approvals are refused: there is nothing an operator could move.
    error ConsentToken__ApprovalsDisabled();
    /// @notice An address argument (admin, holder, hooks) is zero.
    error ConsentToken__ZeroAddress();
    /// @notice This holder already held a consent token of this study (each address is minted at most once per study).
    error ConsentToken__AlreadyGranted(uint256 studyId, address holder);
    /// @notice The expiry is not in the future.
    error ConsentToken__InvalidExpiry(uint64 expiresAt);
    /// @notice The caller holds no consent token of this study.
    error ConsentToken__NotHeld(uint256 studyId, address holder);
    /// @notice The hooks were set already; they are set once.
    error ConsentToken__HooksAlreadySet(address hooks);

    /// @notice The role allowed to mint (the StudyRegistry).
    function MINTER_ROLE() external view returns (bytes32);

    /// @notice Mint the consent token of `studyId` to `holder`, active until `expiresAt`. MINTER_ROLE only.
    ///         Calls the hooks' onConsentGranted when hooks are set.
    /// @param holder The participant (never held this study's token before).
    /// @param studyId The study.
    /// @param expiresAt When the consent stops being active; after the current block's time.
    function mint(address holder, uint256 studyId, uint64 expiresAt) external;

    /// @notice Revoke the caller's consent to `studyId`: burns its token and calls the hooks'
    ///         onConsentRevoked. The caller is the ERC-2771 signer when relayed by the trusted forwarder.
    /// @param studyId A study whose token the caller holds (expired or not).
    function revoke(uint256 studyId) external;

    /// @notice Set the hooks contract, once. DEFAULT_ADMIN_ROLE only.
    /// @param hooks_ The contract to tell of grants and revocations; non-zero.
    function setHooks(IConsentHooks hooks_) external;

    /// @notice The hooks contract (zero until set).
    function hooks() external view returns (IConsentHooks);

    /// @notice When `holder`'s consent to `studyId` expires (kept after a revocation; 0 if never granted).
    function expiresAt(address holder, uint256 studyId) external view returns (uint64);

    /// @notice Whether `holder` revoked its consent to `studyId`.
    function isRevoked(address holder, uint256 studyId) external view returns (bool);

    /// @notice Whether `holder`'s consent to `studyId` counts now: it holds the token, the block's
    ///         time is before expiresAt, and it has not revoked.
    function isActive(address holder, uint256 studyId) external view returns (bool);
}
