// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IConsentHooks
/// @notice Told by the ConsentToken when a consent is granted (minted on enrollment) or revoked
///         (burnt by its holder), so that a contract keeping per-holder accounts (the StudyMarket's
///         reward-per-token payouts) can start or stop a holder's accrual in the same transaction.
/// @dev Set once by the ConsentToken's admin. The token calls the hooks after its own state has
///      changed; a hook that reverts reverts the grant or the revocation, so the hooks contract
///      must never refuse. Expiry is not reported (nothing happens on chain when time passes):
///      the hooks contract reads ConsentToken.expiresAt for that.
interface IConsentHooks {
    /// @notice `holder` was granted the consent token of `studyId`, active until `expiresAt`.
    /// @param studyId The study (the token id).
    /// @param holder The participant's per-study address.
    /// @param expiresAt Unix time from which the consent is no longer active.
    function onConsentGranted(uint256 studyId, address holder, uint64 expiresAt) external;

    /// @notice `holder` revoked its consent to `studyId` (its token was burnt).
    /// @param studyId The study (the token id).
    /// @param holder The participant's per-study address.
    function onConsentRevoked(uint256 studyId, address holder) external;
}
