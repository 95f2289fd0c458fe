// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {StudyMarketFixture} from "../StudyMarket.t.sol";
import {StudyMarketHandler} from "./StudyMarketHandler.sol";

/// @dev Money and consent invariants of the StudyMarket over fuzzed call orderings (see the handler).
contract StudyMarketInvariantTest is StudyMarketFixture {
    StudyMarketHandler internal handler;

    function setUp() public {
        _deploy();
        handler = new StudyMarketHandler(market, consent, usd, STUDY, DURATION, memberKeys);
        bytes32 minter = consent.MINTER_ROLE();
        vm.prank(ADMIN);
        consent.grantRole(minter, address(handler));
        targetContract(address(handler));
    }

    function _pendingEscrow() internal view returns (uint256) {
        uint256 id = market.pendingPurchaseOf(STUDY);
        return id == 0 ? 0 : market.purchaseOf(id).amount;
    }

    function _sumClaimable() internal view returns (uint256 sum) {
        uint256 n = handler.holderCount();
        for (uint256 i = 0; i < n; ++i) sum += market.claimable(STUDY, handler.holders(i));
    }

    /// Escrow never pays out more than was deposited, and holds exactly what is not yet paid out.
    function invariant_escrowBalance() public view {
        uint256 deposited = handler.ghostDeposited();
        uint256 out = handler.ghostClaimedTotal() + handler.ghostRefunded();
        assertLe(out, deposited);
        assertEq(usd.balanceOf(address(market)), deposited - out);
    }

    /// claimed + claimable + refunded + pending escrow = deposited, to the unit.
    function invariant_booksBalance() public view {
        assertEq(
            handler.ghostClaimedTotal() + _sumClaimable() + handler.ghostRefunded() + _pendingEscrow(),
            handler.ghostDeposited()
        );
        assertEq(handler.ghostClaimedTotal() + _sumClaimable(), handler.ghostConfirmed());
    }

    /// Each holder is owed exactly the price of every confirmed purchase it was active at (revoked
    /// or expired holders never accrue), no more, no less.
    function invariant_holdersEarnExactlyTheirCohorts() public view {
        uint256 n = handler.holderCount();
        for (uint256 i = 0; i < n; ++i) {
            address h = handler.holders(i);
            assertEq(market.claimable(STUDY, h) + handler.ghostClaimed(h), handler.ghostEarned(h));
        }
        assertEq(handler.ghostCohortMismatches(), 0);
    }

    /// Consent tokens never move: each holder has 1 until it revokes, then 0; no transfer or approval passed.
    function invariant_tokensNeverMove() public view {
        uint256 n = handler.holderCount();
        for (uint256 i = 0; i < n; ++i) {
            address h = handler.holders(i);
            assertEq(consent.balanceOf(h, STUDY), handler.ghostRevoked(h) ? 0 : 1);
        }
        assertEq(handler.ghostTransfersThatMoved(), 0);
    }

    /// The checkpointed active count never undercounts the truly active holders.
    function invariant_activeCountCoversActive() public view {
        uint256 n = handler.holderCount();
        uint256 active;
        for (uint256 i = 0; i < n; ++i) if (consent.isActive(handler.holders(i), STUDY)) ++active;
        assertGe(market.activeCountOf(STUDY), active);
    }
}
