// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IStudyMarket} from "./interfaces/IStudyMarket.sol";
import {IConsentHooks} from "./interfaces/IConsentHooks.sol";
import {IStudyRegistry} from "./interfaces/IStudyRegistry.sol";
import {IReleaseCommittee} from "./interfaces/IReleaseCommittee.sol";

/// @title StudyMarket
/// @notice Escrowed purchases of a study's active cohort and O(1) reward-per-token payouts.
/// @dev Constructor: (studyRegistry, releaseCommittee, consentToken, trustedForwarder,
///      confirmationWindow seconds, e.g. 3 days). The ConsentToken's admin must then set this
///      contract as the token's hooks. Accounting (decision 023), per study:
///      - rewardPerToken grows by pricePerParticipant at each confirmation (no division, no dust);
///      - a holder's earnings while active are rewardPerToken - snapshot, less the price of the
///        purchase that was pending when it joined if that purchase was later confirmed (it was
///        not in that cohort) -- `joinPending`;
///      - a holder leaving while a purchase it was part of is pending records it -- `exitPending`
///        -- and is owed its price if that purchase is confirmed;
///      - at most one pending purchase per study makes those two fields enough.
contract StudyMarket is IStudyMarket, ERC2771Context, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev One holder's account in one study.
    struct Holder {
        bool known; // ever joined (one consent per address per study)
        bool active; // accruing (cleared on revocation or checkpointed expiry)
        uint64 expiresAt;
        uint64 joinPending; // purchase pending when it joined (not its cohort), 0 when settled/none
        uint64 exitPending; // purchase pending when it left (its cohort), 0 when settled/none
        uint256 snapshot; // rewardPerToken at the last checkpoint
        uint256 accrued; // earned and not yet claimed, as of the last checkpoint
    }

    /// @dev A purchase in three slots: the token is the study's (Market.token), createdAt is
    ///      deadline - window, amount is price * cohort.
    struct StoredPurchase {
        address buyer;
        PurchaseStatus status;
        uint32 cohort;
        uint40 deadline;
        uint256 studyId;
        uint256 pricePerParticipant;
    }

    /// @dev Per-study market state.
    struct Market {
        uint256 rewardPerToken;
        address token; // payment token of the first purchase; later purchases must match
        uint32 activeCount;
        uint64 pending; // the pending purchase, 0 if none
        uint64 lastExpiresAt; // latest expiry queued (expiries must not decrease)
        uint64 head; // FIFO pointer into queue
        address[] queue; // holders in enrollment (= expiry) order
    }

    bytes32 private constant CONFIRM_TYPEHASH =
        keccak256("Confirm(uint256 purchaseId,uint256 studyId,address buyer,bytes32 releaseHash)");

    /// @dev The longest confirmation window a deployment may choose.
    uint64 private constant MAX_WINDOW = 90 days;

    IStudyRegistry private immutable _registry;
    IReleaseCommittee private immutable _committee;
    address private immutable _consentToken;
    uint64 private immutable _window;

    uint64 private _purchaseCount;
    mapping(uint256 purchaseId => StoredPurchase) private _purchases;
    mapping(uint256 studyId => Market) private _markets;
    mapping(uint256 studyId => mapping(address holder => Holder)) private _holders;

    /// @param studyRegistry The StudyRegistry whose studies are sold.
    /// @param releaseCommittee The ReleaseCommittee whose members confirm releases.
    /// @param consentToken The ConsentToken, the only caller of the hooks.
    /// @param trustedForwarder The ERC2771Forwarder (holders claim through the relayer).
    /// @param confirmationWindow_ Seconds after a purchase during which it may be confirmed (1 s to 90 days).
    constructor(
        IStudyRegistry studyRegistry,
        IReleaseCommittee releaseCommittee,
        address consentToken,
        address trustedForwarder,
        uint64 confirmationWindow_
    ) ERC2771Context(trustedForwarder) EIP712("Consentry StudyMarket", "1") {
        if (
            address(studyRegistry) == address(0) || address(releaseCommittee) == address(0)
                || consentToken == address(0) || trustedForwarder == address(0)
        ) revert StudyMarket__ZeroAddress();
        if (confirmationWindow_ == 0 || confirmationWindow_ > MAX_WINDOW) {
            revert StudyMarket__InvalidWindow(confirmationWindow_);
        }
        _registry = studyRegistry;
        _committee = releaseCommittee;
        _consentToken = consentToken;
        _window = confirmationWindow_;
    }

    modifier onlyConsentToken() {
        if (msg.sender != _consentToken) revert StudyMarket__NotConsentToken(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- hooks

    /// @inheritdoc IConsentHooks
    function onConsentGranted(uint256 studyId, address holder, uint64 expiresAt) external onlyConsentToken {
        Holder storage h = _holders[studyId][holder];
        if (h.known) revert StudyMarket__AlreadyJoined(studyId, holder);
        Market storage m = _markets[studyId];
        if (expiresAt < m.lastExpiresAt) revert StudyMarket__ExpiryOutOfOrder(studyId, expiresAt, m.lastExpiresAt);
        m.lastExpiresAt = expiresAt;
        h.known = true;
        h.active = true;
        h.expiresAt = expiresAt;
        h.snapshot = m.rewardPerToken;
        h.joinPending = m.pending;
        m.queue.push(holder);
        // Checked: reaching 2^32 active holders in one study would revert the grant, not wrap.
        m.activeCount += 1;
        emit HolderJoined(studyId, holder, expiresAt);
    }

    /// @inheritdoc IConsentHooks
    function onConsentRevoked(uint256 studyId, address holder) external onlyConsentToken {
        Holder storage h = _holders[studyId][holder];
        // Already checkpointed as expired (or never joined): nothing accrues, nothing to do.
        if (!h.active) return;
        // A consent revoked after it expired (not yet checkpointed) is reported as expired.
        _leave(studyId, _markets[studyId], h, holder, h.expiresAt <= block.timestamp);
    }

    // ---------------------------------------------------------------- market

    /// @inheritdoc IStudyMarket
    function purchase(uint256 studyId) external nonReentrant returns (uint256 purchaseId) {
        IStudyRegistry.Study memory s = _registry.studyOf(studyId);
        if (
            s.status == IStudyRegistry.Status.Pending || s.status == IStudyRegistry.Status.Rejected
                || s.status == IStudyRegistry.Status.Suspended
        ) revert StudyMarket__NotPurchasable(studyId);
        if (s.pricePerParticipant == 0 || s.paymentToken == address(0)) revert StudyMarket__InvalidPrice(studyId);
        Market storage m = _markets[studyId];
        if (m.pending != 0) revert StudyMarket__PurchasePending(studyId, m.pending);
        // A study's terms are fixed at registration, so its token is the same at every purchase;
        // kept here for claims, which then need not read the registry.
        if (m.token == address(0)) m.token = s.paymentToken;

        _advance(studyId, m, type(uint256).max);
        uint32 active = m.activeCount;
        if (active == 0 || active < s.minCohort) revert StudyMarket__CohortTooSmall(studyId, active, s.minCohort);
        uint256 amount = s.pricePerParticipant * active; // checked: an absurd price reverts

        address buyer = _msgSender();
        // Ids are sequential from 1; 2^64 purchases cannot happen.
        unchecked {
            purchaseId = ++_purchaseCount;
        }
        // Fits: uint40 seconds last until the year 36812 and the window is at most 90 days.
        uint40 deadline = uint40(block.timestamp + _window);
        _purchases[purchaseId] = StoredPurchase({
            buyer: buyer,
            status: PurchaseStatus.Pending,
            cohort: active,
            deadline: deadline,
            studyId: studyId,
            pricePerParticipant: s.pricePerParticipant
        });
        m.pending = uint64(purchaseId);
        emit Purchased(purchaseId, studyId, buyer, active, s.pricePerParticipant, amount, deadline);

        IERC20 token = IERC20(s.paymentToken);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(buyer, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert StudyMarket__TransferShortfall(amount, received);
    }

    /// @inheritdoc IStudyMarket
    function confirm(uint256 purchaseId, bytes32 releaseHash, bytes[] calldata signatures) external {
        StoredPurchase storage p = _purchases[purchaseId];
        if (p.status != PurchaseStatus.Pending) revert StudyMarket__NotPending(purchaseId);
        if (block.timestamp > p.deadline) revert StudyMarket__DeadlinePassed(purchaseId, p.deadline);
        if (releaseHash == bytes32(0)) revert StudyMarket__ZeroReleaseHash();

        uint256 threshold = _committee.threshold();
        if (signatures.length < threshold || threshold == 0) {
            revert StudyMarket__NotEnoughSignatures(signatures.length, threshold);
        }
        bytes32 digest = _confirmDigest(purchaseId, p.studyId, p.buyer, releaseHash);
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (signer <= previous) revert StudyMarket__SignersNotAscending(signer, previous);
            if (!_committee.isMember(signer)) revert StudyMarket__NotCommitteeMember(signer);
            previous = signer;
        }

        Market storage m = _markets[p.studyId];
        p.status = PurchaseStatus.Confirmed;
        m.pending = 0;
        // Bounded by the sum of escrowed prices, each of which fit with the cohort multiplied in.
        m.rewardPerToken += p.pricePerParticipant;
        emit PurchaseConfirmed(purchaseId, p.studyId, releaseHash, m.rewardPerToken);
    }

    /// @inheritdoc IStudyMarket
    function refund(uint256 purchaseId) external nonReentrant {
        StoredPurchase storage p = _purchases[purchaseId];
        if (p.status != PurchaseStatus.Pending) revert StudyMarket__NotPending(purchaseId);
        if (block.timestamp <= p.deadline) revert StudyMarket__DeadlineNotPassed(purchaseId, p.deadline);
        p.status = PurchaseStatus.Refunded;
        Market storage m = _markets[p.studyId];
        m.pending = 0;
        uint256 amount = _mulUnchecked(p.pricePerParticipant, p.cohort);
        emit PurchaseRefunded(purchaseId, p.studyId, p.buyer, amount);
        IERC20(m.token).safeTransfer(p.buyer, amount);
    }

    /// @inheritdoc IStudyMarket
    function claim(uint256 studyId, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert StudyMarket__ZeroAddress();
        address holder = _msgSender();
        Market storage m = _markets[studyId];
        Holder storage h = _holders[studyId][holder];
        if (h.active && h.expiresAt <= block.timestamp) _leave(studyId, m, h, holder, true);
        _checkpoint(m, h);
        amount = h.accrued;
        if (amount == 0) revert StudyMarket__NothingToClaim(studyId, holder);
        h.accrued = 0;
        emit Claimed(studyId, holder, to, amount);
        IERC20(m.token).safeTransfer(to, amount);
    }

    /// @inheritdoc IStudyMarket
    function advanceExpiries(uint256 studyId, uint256 maxSteps) external returns (uint256 processed) {
        return _advance(studyId, _markets[studyId], maxSteps);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IStudyMarket
    function claimable(uint256 studyId, address holder) external view returns (uint256 amount) {
        Market storage m = _markets[studyId];
        Holder storage h = _holders[studyId][holder];
        amount = h.accrued;
        if (h.active) {
            // An expired holder not yet checkpointed is valued the same: every purchase confirmed
            // since its expiry was made before it (a later one would have checkpointed it).
            amount += m.rewardPerToken - h.snapshot - _confirmedPrice(h.joinPending);
        } else {
            amount += _confirmedPrice(h.exitPending);
        }
    }

    /// @inheritdoc IStudyMarket
    function purchaseOf(uint256 purchaseId) external view returns (Purchase memory purchase_) {
        StoredPurchase storage p = _purchases[purchaseId];
        if (p.status == PurchaseStatus.None) return purchase_;
        purchase_ = Purchase({
            studyId: p.studyId,
            buyer: p.buyer,
            status: p.status,
            cohort: p.cohort,
            createdAt: uint64(p.deadline) - _window,
            deadline: p.deadline,
            token: _markets[p.studyId].token,
            pricePerParticipant: p.pricePerParticipant,
            // Cannot overflow: checked at the purchase.
            amount: _mulUnchecked(p.pricePerParticipant, p.cohort)
        });
    }

    /// @inheritdoc IStudyMarket
    function pendingPurchaseOf(uint256 studyId) external view returns (uint256) {
        return _markets[studyId].pending;
    }

    /// @inheritdoc IStudyMarket
    function purchaseCount() external view returns (uint256) {
        return _purchaseCount;
    }

    /// @inheritdoc IStudyMarket
    function activeCountOf(uint256 studyId) external view returns (uint32) {
        return _markets[studyId].activeCount;
    }

    /// @inheritdoc IStudyMarket
    function rewardPerTokenOf(uint256 studyId) external view returns (uint256) {
        return _markets[studyId].rewardPerToken;
    }

    /// @inheritdoc IStudyMarket
    function confirmDigest(uint256 purchaseId, uint256 studyId, address buyer, bytes32 releaseHash)
        external
        view
        returns (bytes32)
    {
        return _confirmDigest(purchaseId, studyId, buyer, releaseHash);
    }

    /// @inheritdoc IStudyMarket
    function confirmationWindow() external view returns (uint64) {
        return _window;
    }

    // ---------------------------------------------------------------- internals

    function _confirmDigest(uint256 purchaseId, uint256 studyId, address buyer, bytes32 releaseHash)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(CONFIRM_TYPEHASH, purchaseId, studyId, buyer, releaseHash)));
    }

    /// @dev price * cohort of a stored purchase, computed checked when it was made.
    function _mulUnchecked(uint256 price, uint32 cohort) private pure returns (uint256 r) {
        // Cannot overflow: the purchase computed this product with checked arithmetic.
        unchecked {
            r = price * cohort;
        }
    }

    /// @dev The per-participant price of `purchaseId` if it was confirmed, else 0 (0 for id 0).
    function _confirmedPrice(uint256 purchaseId) private view returns (uint256) {
        if (purchaseId == 0) return 0;
        StoredPurchase storage p = _purchases[purchaseId];
        return p.status == PurchaseStatus.Confirmed ? p.pricePerParticipant : 0;
    }

    /// @dev Folds what `h` earned since its last checkpoint into `accrued`; settles joinPending or
    ///      exitPending once their purchase is no longer pending.
    function _checkpoint(Market storage m, Holder storage h) private {
        if (h.active) {
            uint256 j = h.joinPending;
            bool joinSettled = j == 0 || _purchases[j].status != PurchaseStatus.Pending;
            h.accrued += m.rewardPerToken - h.snapshot - _confirmedPrice(j);
            h.snapshot = m.rewardPerToken;
            // While it is pending the snapshot already excludes nothing of it; keep it to subtract later.
            if (joinSettled) h.joinPending = 0;
        } else {
            uint256 e = h.exitPending;
            if (e != 0 && _purchases[e].status != PurchaseStatus.Pending) {
                h.accrued += _confirmedPrice(e);
                h.exitPending = 0;
            }
        }
    }

    /// @dev Stops `h` accruing. It keeps what it earned; if a purchase it was part of (it joined
    ///      before it) is pending, it is owed that purchase's price should it be confirmed.
    function _leave(uint256 studyId, Market storage m, Holder storage h, address holder, bool expired) private {
        _checkpoint(m, h);
        uint64 pending = m.pending;
        h.active = false;
        h.exitPending = (pending != 0 && pending != h.joinPending) ? pending : 0;
        h.joinPending = 0;
        // active was true, so this holder was counted in activeCount.
        unchecked {
            m.activeCount -= 1;
        }
        emit HolderLeft(studyId, holder, expired);
    }

    /// @dev Checkpoints expired holders from the head of the FIFO queue, at most `maxSteps` entries.
    ///      Expiries are non-decreasing along the queue, so the first unexpired entry ends the walk.
    function _advance(uint256 studyId, Market storage m, uint256 maxSteps) private returns (uint256 processed) {
        uint256 head = m.head;
        uint256 length = m.queue.length;
        while (head < length && processed < maxSteps) {
            address holder = m.queue[head];
            Holder storage h = _holders[studyId][holder];
            if (h.active) {
                if (h.expiresAt > block.timestamp) break;
                _leave(studyId, m, h, holder, true);
            }
            // Both bounded by the queue length.
            unchecked {
                ++head;
                ++processed;
            }
        }
        m.head = uint64(head);
    }

    // ---------------------------------------------------------------- ERC-2771 plumbing

    function _msgSender() internal view override(ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
