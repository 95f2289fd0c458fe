// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {GuardianRecoveryFixture} from "../GuardianRecovery.t.sol";
import {GuardianRecoveryHandler} from "./GuardianRecoveryHandler.sol";
import {IPatientRegistry} from "../../src/interfaces/IPatientRegistry.sol";

/// @dev Control of an account over fuzzed orderings of recovery and guardian calls (see the handler):
///      it moves only by a completion with a quorum of distinct guardian approvals of that nonce after
///      the delay; no one without the right to a call changes anything; a cancelled or replaced
///      recovery's approvals are void.
contract GuardianRecoveryInvariantTest is GuardianRecoveryFixture {
    GuardianRecoveryHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new GuardianRecoveryHandler(registry, ALICE, BOB);
        // 3 of the pool's first 5, 2 days: the handler proposes other sets from the same pool of 8.
        _setGuardians(ALICE, 5, 3, DELAY);
        targetContract(address(handler));
        // The actions only (not the handler's getters); approve twice, as a recovery needs several.
        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = GuardianRecoveryHandler.start.selector;
        selectors[1] = GuardianRecoveryHandler.approve.selector;
        selectors[2] = GuardianRecoveryHandler.approve.selector;
        selectors[3] = GuardianRecoveryHandler.cancel.selector;
        selectors[4] = GuardianRecoveryHandler.complete.selector;
        selectors[5] = GuardianRecoveryHandler.warp.selector;
        selectors[6] = GuardianRecoveryHandler.warp.selector;
        selectors[7] = GuardianRecoveryHandler.proposeGuardians.selector;
        selectors[8] = GuardianRecoveryHandler.applyGuardianChange.selector;
        selectors[9] = GuardianRecoveryHandler.cancelGuardianChange.selector;
        selectors[10] = GuardianRecoveryHandler.rotateByOther.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// The controller is the one the books expect: it changed only by completions the handler checked had
    /// >= threshold distinct guardian approvals of that nonce and waited >= delay since quorum.
    /// forge-config: default.invariant.depth = 128
    function invariant_controllerChangesOnlyByQuorumAfterDelay() public view {
        assertEq(handler.ghostBadCompletions(), 0);
        address controller = handler.ghostController();
        assertEq(registry.controllerOf(ALICE), controller);
        assertEq(registry.accountOf(controller), ALICE);
        assertEq(registry.completedRecovery(ALICE).nonce == 0, handler.ghostControllerChanges() == 0);
        if (handler.ghostControllerChanges() != 0) {
            assertEq(registry.completedRecovery(ALICE).newController, controller);
        }
        uint256 n = handler.oldControllerCount();
        for (uint256 i = 0; i < n; ++i) {
            address old = handler.oldControllers(i);
            if (old != controller) assertEq(registry.accountOf(old), address(0));
        }
        // The other patient is never touched.
        assertEq(registry.controllerOf(BOB), BOB);
        assertEq(registry.accountOf(BOB), BOB);
    }

    /// No call by a wallet without the right to it (non-guardian for recovery calls, non-controller for
    /// controller calls, an early or blocked guardian change) ever succeeded in changing anything.
    /// forge-config: default.invariant.depth = 128
    function invariant_nonGuardiansChangeNothing() public view {
        assertEq(handler.ghostUnauthorizedChanges(), 0);
        assertEq(registry.encryptionKeyOf(ALICE), KEY_A); // only rotateByOther tries, and it must fail
    }

    /// Approvals of a cancelled or replaced nonce are void: never accepted, never counted; the active
    /// recovery counts exactly its own distinct approvals, and is ready exactly when they reach quorum.
    /// forge-config: default.invariant.depth = 128
    function invariant_voidApprovalsStayVoid() public view {
        assertEq(handler.ghostVoidApprovalsAccepted(), 0);
        assertEq(handler.ghostDuplicateApprovals(), 0);
        assertEq(handler.ghostNonceSkips(), 0);
        IPatientRegistry.Recovery memory r = registry.recoveryOf(ALICE);
        if (r.nonce == 0) return;
        assertFalse(handler.ghostVoid(r.nonce));
        assertEq(r.nonce, handler.ghostLastNonce());
        assertEq(r.approvalCount, handler.approverCount(r.nonce));
        assertEq(_popcount(r.approvals), r.approvalCount);
        (, uint8 threshold, uint32 delay) = registry.guardiansOf(ALICE);
        if (r.approvalCount >= threshold) assertEq(r.readyAt, handler.ghostQuorumAt(r.nonce) + delay);
        else assertEq(r.readyAt, 0);
    }

    /// A recovery that is due (quorum, delay passed, wallet still fresh) can always be completed.
    /// forge-config: default.invariant.depth = 128
    function invariant_dueRecoveriesComplete() public view {
        assertEq(handler.ghostLivenessFailures(), 0);
    }

    function _popcount(uint16 x) internal pure returns (uint256 n) {
        for (; x != 0; x &= x - 1) ++n;
    }
}
