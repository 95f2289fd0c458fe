// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IConsentHooks} from "./IConsentHooks.sol";

/// @title IStudyMarket
/// @notice Researchers buy access to a study's current active cohort. The price (the study's
///         pricePerParticipant times the number of active consent holders) is pulled into escrow
///         in the study's ERC-20; the release committee confirms, with at least threshold()
///         EIP-712 signatures of distinct current members, that it released the cohort's extract
///         shares to the buyer; only then is every holder that was active at the purchase credited
///         exactly pricePerParticipant. Without a confirmation by the deadline anyone can refund
///         the buyer. Holders claim whenever they like, to any address (ERC-2771 aware).
/// @dev Payouts use a reward-per-token accumulator per study, so purchase and confirmation cost
///      O(1) in the cohort size. At most one purchase per study is pending at a time; that is what
///      keeps the accounting exact with O(1) state per holder (see decision 023). Expiry is
///      checkpointed lazily by a FIFO pointer over holders in enrollment order.
interface IStudyMarket is IConsentHooks {
    /// @notice Where a purchase stands.
    enum PurchaseStatus {
        None,
        Pending,
        Confirmed,
        Refunded
    }

    /// @notice One purchase, as purchaseOf returns it.
    /// @param studyId The study bought.
    /// @param buyer Who paid (and is refunded if nobody confirms).
    /// @param status Pending until confirmed or refunded.
    /// @param cohort Active consent holders at the purchase (each is owed pricePerParticipant).
    /// @param createdAt Block time of the purchase.
    /// @param deadline Last block time at which the committee may confirm.
    /// @param token The ERC-20 paid (the study's payment token).
    /// @param pricePerParticipant The study's price at the purchase.
    /// @param amount cohort * pricePerParticipant, held in escrow while pending.
    /// @dev The committee's releaseHash is in the PurchaseConfirmed event, not in storage.
    struct Purchase {
        uint256 studyId;
        address buyer;
        PurchaseStatus status;
        uint32 cohort;
        uint64 createdAt;
        uint64 deadline;
        address token;
        uint256 pricePerParticipant;
        uint256 amount;
    }

    /// @notice A researcher bought a study's active cohort; `amount` is in escrow.
    event Purchased(
        uint256 indexed purchaseId,
        uint256 indexed studyId,
        address indexed buyer,
        uint32 cohort,
        uint256 pricePerParticipant,
        uint256 amount,
        uint64 deadline
    );
    /// @notice The committee confirmed the release; the cohort is credited.
    event PurchaseConfirmed(uint256 indexed purchaseId, uint256 indexed studyId, bytes32 releaseHash, uint256 rewardPerToken);
    /// @notice Nobody confirmed by the deadline; the buyer got `amount` back.
    event PurchaseRefunded(uint256 indexed purchaseId, uint256 indexed studyId, address indexed buyer, uint256 amount);
    /// @notice A holder started accruing (its consent was granted).
    event HolderJoined(uint256 indexed studyId, address indexed holder, uint64 expiresAt);
    /// @notice A holder stopped accruing: revoked (`expired` false) or expired (`expired` true).
    event HolderLeft(uint256 indexed studyId, address indexed holder, bool expired);
    /// @notice A holder was paid what it had earned.
    event Claimed(uint256 indexed studyId, address indexed holder, address indexed to, uint256 amount);

    /// @notice A constructor address is zero.
    error StudyMarket__ZeroAddress();
    /// @notice The confirmation window is zero or longer than 90 days.
    error StudyMarket__InvalidWindow(uint64 window);
    /// @notice Only the ConsentToken may call the consent hooks.
    error StudyMarket__NotConsentToken(address caller);
    /// @notice The holder already has an account in this study (one consent per address per study).
    error StudyMarket__AlreadyJoined(uint256 studyId, address holder);
    /// @notice The granted consent would expire before one granted earlier in the same study, which the
    ///         FIFO expiry pointer cannot handle (consent durations may only grow).
    error StudyMarket__ExpiryOutOfOrder(uint256 studyId, uint64 expiresAt, uint64 lastExpiresAt);
    /// @notice The study cannot be bought in its current status (pending, rejected or suspended).
    error StudyMarket__NotPurchasable(uint256 studyId);
    /// @notice A purchase of this study is pending; confirm or refund it first.
    error StudyMarket__PurchasePending(uint256 studyId, uint256 purchaseId);
    /// @notice Fewer active participants than the study's minimum cohort k.
    error StudyMarket__CohortTooSmall(uint256 studyId, uint32 active, uint32 minCohort);
    /// @notice The token delivered a different amount than requested (fee-on-transfer tokens are refused).
    error StudyMarket__TransferShortfall(uint256 expected, uint256 received);
    /// @notice The study has no price (0) or no payment token: it is not for sale.
    error StudyMarket__InvalidPrice(uint256 studyId);
    /// @notice No such purchase, or not pending.
    error StudyMarket__NotPending(uint256 purchaseId);
    /// @notice The confirmation deadline has passed.
    error StudyMarket__DeadlinePassed(uint256 purchaseId, uint64 deadline);
    /// @notice The confirmation deadline has not passed yet, so no refund.
    error StudyMarket__DeadlineNotPassed(uint256 purchaseId, uint64 deadline);
    /// @notice Fewer signatures than the committee's threshold.
    error StudyMarket__NotEnoughSignatures(uint256 given, uint256 threshold);
    /// @notice A signature does not recover to a current committee member.
    error StudyMarket__NotCommitteeMember(address signer);
    /// @notice Signers must be strictly ascending by address (which also makes them distinct).
    error StudyMarket__SignersNotAscending(address signer, address previous);
    /// @notice The release hash is zero.
    error StudyMarket__ZeroReleaseHash();
    /// @notice Nothing to claim.
    error StudyMarket__NothingToClaim(uint256 studyId, address holder);

    /// @notice Buy the study's current active cohort: pulls pricePerParticipant x active holders of
    ///         the study's payment token from the caller (approve first) into escrow. Checkpoints
    ///         expired holders first. Reverts below minCohort, while another purchase of the study
    ///         is pending, or if the study is Pending, Rejected or Suspended.
    /// @return purchaseId The new purchase (from 1).
    function purchase(uint256 studyId) external returns (uint256 purchaseId);

    /// @notice Confirm a pending purchase with committee signatures over the EIP-712 struct
    ///         `Confirm(uint256 purchaseId,uint256 studyId,address buyer,bytes32 releaseHash)` by
    ///         at least threshold() distinct current members, ordered by ascending signer address.
    ///         Credits every holder of the purchase's cohort pricePerParticipant. Anyone may submit.
    function confirm(uint256 purchaseId, bytes32 releaseHash, bytes[] calldata signatures) external;

    /// @notice Refund a pending purchase whose deadline has passed, to its buyer. Anyone may call.
    function refund(uint256 purchaseId) external;

    /// @notice Pay the caller's (ERC-2771 _msgSender) earnings in `studyId` to `to`.
    /// @return amount What was paid.
    function claim(uint256 studyId, address to) external returns (uint256 amount);

    /// @notice Checkpoint up to `maxSteps` expired holders of a study (purchase does it too,
    ///         without a bound; this lets anyone pre-pay a large backlog in bounded steps).
    /// @return processed How many queue entries were passed.
    function advanceExpiries(uint256 studyId, uint256 maxSteps) external returns (uint256 processed);

    /// @notice What `holder` could claim now in `studyId` (includes a pending purchase only once confirmed).
    function claimable(uint256 studyId, address holder) external view returns (uint256);

    /// @notice A purchase as stored.
    function purchaseOf(uint256 purchaseId) external view returns (Purchase memory);

    /// @notice The pending purchase of a study (0: none).
    function pendingPurchaseOf(uint256 studyId) external view returns (uint256);

    /// @notice How many purchases exist (the last id).
    function purchaseCount() external view returns (uint256);

    /// @notice Active holders as checkpointed (holders expired since the last checkpoint still count).
    function activeCountOf(uint256 studyId) external view returns (uint32);

    /// @notice The study's reward-per-token accumulator: the sum of confirmed prices per participant.
    function rewardPerTokenOf(uint256 studyId) external view returns (uint256);

    /// @notice The EIP-712 digest the committee members sign to confirm.
    function confirmDigest(uint256 purchaseId, uint256 studyId, address buyer, bytes32 releaseHash)
        external
        view
        returns (bytes32);

    /// @notice How long after a purchase the committee may confirm it (seconds).
    function confirmationWindow() external view returns (uint64);
}
