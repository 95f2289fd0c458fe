// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {StudyMarket} from "../../src/StudyMarket.sol";
import {IStudyMarket} from "../../src/interfaces/IStudyMarket.sol";
import {ConsentToken} from "../../src/ConsentToken.sol";
import {TestToken} from "../../src/TestToken.sol";
import {MarketCohort} from "../helpers/MarketCohort.sol";

/// @dev Drives one study through fuzzed orderings of enroll / purchase / confirm / refund / revoke /
///      warp / claim / attempted transfers, and keeps ghost books of what each holder must have
///      earned: on confirmation, the price goes to exactly the holders the ConsentToken itself
///      reported active (isActive) at the purchase -- computed here by brute force over all
///      holders, independently of the market's O(1) accounting.
contract StudyMarketHandler is Test {
    uint256 internal constant MAX_HOLDERS = 60;

    StudyMarket internal immutable market;
    ConsentToken internal immutable consent;
    TestToken internal immutable usd;
    uint256 internal immutable study;
    uint64 internal immutable duration;
    uint256[] internal memberKeys;

    address[] public holders;
    mapping(address => uint256) public ghostEarned;
    mapping(address => uint256) public ghostClaimed;
    mapping(address => bool) public ghostRevoked;
    uint256 public ghostDeposited;
    uint256 public ghostRefunded;
    uint256 public ghostClaimedTotal;
    uint256 public ghostConfirmed;
    uint256 public ghostCohortMismatches;
    uint256 public ghostTransfersThatMoved;
    uint256 public ghostPrice = 5e6;
    mapping(uint256 => address[]) internal cohortOf;
    mapping(string => uint256) public calls;

    constructor(StudyMarket market_, ConsentToken consent_, TestToken usd_, uint256 study_, uint64 duration_, uint256[] memory keys)
    {
        market = market_;
        consent = consent_;
        usd = usd_;
        study = study_;
        duration = duration_;
        memberKeys = keys;
        usd.faucet(address(this), 1_000_000e6);
        usd.approve(address(market), type(uint256).max);
    }

    function holderCount() external view returns (uint256) {
        return holders.length;
    }

    /// @dev Enrolls 1 to 4 fresh holders (so cohorts reach k often enough to be bought).
    function enroll(uint256 seed, uint256 count) external {
        count = bound(count, 1, 4);
        for (uint256 i = 0; i < count && holders.length < MAX_HOLDERS; ++i) {
            address h = address(uint160(uint256(keccak256(abi.encode("inv holder", holders.length, seed)))));
            if (consent.expiresAt(h, study) != 0) return;
            MarketCohort.grant(consent, h, study, duration);
            holders.push(h);
            calls["enroll"]++;
        }
    }

    function purchase() external {
        address[] memory active = new address[](holders.length);
        uint256 n;
        for (uint256 i = 0; i < holders.length; ++i) {
            if (consent.isActive(holders[i], study)) active[n++] = holders[i];
        }
        if (market.pendingPurchaseOf(study) != 0 || n < 3) {
            vm.expectRevert();
            market.purchase(study);
            return;
        }
        uint256 id = market.purchase(study);
        IStudyMarket.Purchase memory p = market.purchaseOf(id);
        if (p.cohort != n) ghostCohortMismatches++;
        for (uint256 i = 0; i < n; ++i) cohortOf[id].push(active[i]);
        ghostDeposited += p.amount;
        calls["purchase"]++;
    }

    function confirm(uint256 signers) external {
        uint256 id = market.pendingPurchaseOf(study);
        if (id == 0) return;
        IStudyMarket.Purchase memory p = market.purchaseOf(id);
        if (block.timestamp > p.deadline) return;
        bytes32 release = keccak256(abi.encode("release", id));
        signers = bound(signers, 2, memberKeys.length);
        market.confirm(id, release, MarketCohort.confirmSignatures(market, memberKeys, id, release, signers));
        for (uint256 i = 0; i < cohortOf[id].length; ++i) ghostEarned[cohortOf[id][i]] += p.pricePerParticipant;
        ghostConfirmed += p.amount;
        calls["confirm"]++;
    }

    function refund(uint256 extra) external {
        uint256 id = market.pendingPurchaseOf(study);
        if (id == 0) return;
        IStudyMarket.Purchase memory p = market.purchaseOf(id);
        if (block.timestamp <= p.deadline) vm.warp(uint256(p.deadline) + 1 + bound(extra, 0, 2 days));
        market.refund(id);
        ghostRefunded += p.amount;
        calls["refund"]++;
    }

    function revoke(uint256 index) external {
        if (holders.length == 0) return;
        address h = holders[index % holders.length];
        if (consent.balanceOf(h, study) == 0) return;
        vm.prank(h);
        consent.revoke(study);
        ghostRevoked[h] = true;
        calls["revoke"]++;
    }

    function warp(uint256 seconds_) external {
        // Up to half a consent's life per step, so consents expire within a run (and some mid-purchase).
        vm.warp(block.timestamp + bound(seconds_, 1, duration / 2));
        calls["warp"]++;
    }

    function claim(uint256 index, address to) external {
        if (holders.length == 0) return;
        if (to == address(0) || to == address(market) || to == address(this)) to = address(0xC1A1);
        address h = holders[index % holders.length];
        uint256 owed = market.claimable(study, h);
        vm.prank(h);
        if (owed == 0) {
            vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NothingToClaim.selector, study, h));
            market.claim(study, to);
            return;
        }
        uint256 got = market.claim(study, to);
        assertEq(got, owed);
        ghostClaimed[h] += got;
        ghostClaimedTotal += got;
        calls["claim"]++;
    }

    function advance(uint256 steps) external {
        market.advanceExpiries(study, bound(steps, 0, 8));
    }

    function tryTransfer(uint256 a, uint256 b) external {
        if (holders.length < 2) return;
        address from = holders[a % holders.length];
        address to = holders[b % holders.length];
        uint256 before = consent.balanceOf(from, study);
        vm.prank(from);
        try consent.safeTransferFrom(from, to, study, 1, "") {
            ghostTransfersThatMoved++;
        } catch {}
        if (consent.balanceOf(from, study) != before) ghostTransfersThatMoved++;
        vm.prank(from);
        try consent.setApprovalForAll(to, true) {
            ghostTransfersThatMoved++;
        } catch {}
    }
}
