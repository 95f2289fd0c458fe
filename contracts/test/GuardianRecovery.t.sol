// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {PatientRegistry} from "../src/PatientRegistry.sol";
import {IPatientRegistry} from "../src/interfaces/IPatientRegistry.sol";

/// @dev A registry, one patient account (ALICE) and a pool of guardian wallets.
abstract contract GuardianRecoveryFixture is Test {
    PatientRegistry internal registry;

    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B); // another registered patient
    address internal constant MALLORY = address(0xBAD); // never a guardian
    address internal constant NEW_WALLET = address(0x2E11);
    address internal constant NEWER_WALLET = address(0x2E12);
    // RFC 7748 section 6.1 public keys (little-endian u-coordinates).
    bytes32 internal constant KEY_A = 0x8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a;
    bytes32 internal constant KEY_B = 0xde9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f;
    uint64 internal constant T0 = 1_700_000_000;
    uint32 internal constant DELAY = 2 days;

    function setUp() public virtual {
        vm.warp(T0);
        registry = new PatientRegistry();
        vm.prank(ALICE);
        registry.register(KEY_A);
        vm.prank(BOB);
        registry.register(KEY_B);
    }

    /// @dev Guardian wallet number i (distinct from every other test address).
    function _guardian(uint256 i) internal pure returns (address) {
        // casting to 'uint160' is safe because i is a small index
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(0x6000 + i));
    }

    function _pool(uint256 m) internal pure returns (address[] memory g) {
        g = new address[](m);
        for (uint256 i = 0; i < m; ++i) g[i] = _guardian(i);
    }

    function _setGuardians(address controller, uint256 m, uint8 t, uint32 delay) internal {
        address[] memory g = _pool(m);
        vm.prank(controller);
        registry.setGuardians(g, t, delay);
    }

    function _start(address guardian, address newController) internal returns (uint64 nonce) {
        vm.prank(guardian);
        registry.startRecovery(ALICE, newController, KEY_B);
        nonce = registry.recoveryOf(ALICE).nonce;
    }

    function _approve(address guardian, uint64 nonce) internal {
        vm.prank(guardian);
        registry.approveRecovery(ALICE, nonce);
    }

    /// @dev Guardians 0 and 1 of a 2-of-3 set move ALICE to `newController`; the delay passes; completed.
    function _recover(address newController) internal {
        (address[] memory current,,) = registry.guardiansOf(ALICE);
        if (current.length == 0) _setGuardians(ALICE, 3, 2, DELAY);
        uint64 nonce = _start(_guardian(0), newController);
        _approve(_guardian(1), nonce);
        vm.warp(registry.recoveryOf(ALICE).readyAt);
        registry.completeRecovery(ALICE);
    }

    function _hashGuardians(address account) internal view returns (bytes32) {
        (address[] memory g, uint8 t, uint32 d) = registry.guardiansOf(account);
        return keccak256(abi.encode(g, t, d));
    }
}

contract GuardianRecoveryTest is GuardianRecoveryFixture {
    // ---------------------------------------------------------------- accounts

    function test_register_accountControlsItself() public view {
        assertEq(registry.accountOf(ALICE), ALICE);
        assertEq(registry.controllerOf(ALICE), ALICE);
        assertEq(registry.accountOf(MALLORY), address(0));
        assertEq(registry.controllerOf(MALLORY), address(0));
        assertEq(registry.recoveryOf(ALICE).nonce, 0);
        assertEq(registry.completedRecovery(ALICE).nonce, 0);
        (address[] memory g, uint8 t, uint32 d) = registry.guardiansOf(ALICE);
        assertEq(g.length, 0);
        assertEq(t, 0);
        assertEq(d, 0);
    }

    function test_constants() public view {
        assertEq(registry.GUARDIAN_CHANGE_DELAY(), 48 hours);
        assertEq(registry.MIN_RECOVERY_DELAY(), 1 days);
        assertEq(registry.MAX_RECOVERY_DELAY(), 30 days);
        assertEq(registry.MAX_GUARDIANS(), 10);
        assertEq(registry.RECOVERY_QUORUM_WINDOW(), 7 days);
    }

    function test_register_walletControllingAnAccount_reverts() public {
        _recover(NEW_WALLET);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__ControlsAccount.selector, NEW_WALLET));
        vm.prank(NEW_WALLET);
        registry.register(KEY_B);
        // The old wallet is the account: registered, so it cannot register again either.
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__AlreadyRegistered.selector, ALICE));
        vm.prank(ALICE);
        registry.register(KEY_B);
        assertEq(registry.patientCount(), 2);
    }

    function test_rotate_afterRecovery_byNewWalletOnly() public {
        _recover(NEW_WALLET);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotController.selector, ALICE));
        vm.prank(ALICE);
        registry.rotateEncryptionKey(KEY_B);

        vm.expectEmit(true, false, false, true, address(registry));
        emit IPatientRegistry.EncryptionKeyRotated(ALICE, KEY_A, KEY_B);
        vm.prank(NEW_WALLET);
        registry.rotateEncryptionKey(KEY_B);
        assertEq(registry.encryptionKeyOf(ALICE), KEY_B);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotRegistered.selector, NEW_WALLET));
        registry.encryptionKeyOf(NEW_WALLET);
    }

    // ---------------------------------------------------------------- setGuardians

    function test_setGuardians_first_inForceAtOnce() public {
        address[] memory g = _pool(3);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IPatientRegistry.GuardiansChanged(ALICE, g, 2, DELAY);
        vm.prank(ALICE);
        registry.setGuardians(g, 2, DELAY);
        (address[] memory stored, uint8 t, uint32 d) = registry.guardiansOf(ALICE);
        assertEq(stored, g);
        assertEq(t, 2);
        assertEq(d, DELAY);
        assertEq(registry.pendingGuardianChange(ALICE).effectiveAt, 0);
    }

    function test_setGuardians_later_isPendingForTheDelay() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        address[] memory next = new address[](2);
        next[0] = _guardian(7);
        next[1] = _guardian(8);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IPatientRegistry.GuardianChangeProposed(ALICE, next, 2, 1 days, T0 + 48 hours);
        vm.prank(ALICE);
        registry.setGuardians(next, 2, 1 days);

        (address[] memory stored,,) = registry.guardiansOf(ALICE);
        assertEq(stored, _pool(3));
        IPatientRegistry.GuardianChange memory p = registry.pendingGuardianChange(ALICE);
        assertEq(p.guardians, next);
        assertEq(p.threshold, 2);
        assertEq(p.recoveryDelay, 1 days);
        assertEq(p.effectiveAt, T0 + 48 hours);

        vm.warp(T0 + 48 hours - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPatientRegistry.PatientRegistry__GuardianChangeNotReady.selector, ALICE, T0 + 48 hours
            )
        );
        registry.applyGuardianChange(ALICE);

        vm.warp(T0 + 48 hours);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IPatientRegistry.GuardiansChanged(ALICE, next, 2, 1 days);
        vm.prank(MALLORY); // anyone may apply a change that is due
        registry.applyGuardianChange(ALICE);
        (stored,,) = registry.guardiansOf(ALICE);
        assertEq(stored, next);
        assertEq(registry.pendingGuardianChange(ALICE).effectiveAt, 0);
        assertEq(registry.pendingGuardianChange(ALICE).guardians.length, 0);
    }

    function test_setGuardians_againReplacesPendingAndRestartsTheDelay() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        _setGuardians(ALICE, 4, 2, DELAY);
        vm.warp(T0 + 1 days);
        _setGuardians(ALICE, 5, 3, DELAY);
        IPatientRegistry.GuardianChange memory p = registry.pendingGuardianChange(ALICE);
        assertEq(p.guardians.length, 5);
        assertEq(p.threshold, 3);
        assertEq(p.effectiveAt, T0 + 1 days + 48 hours);
    }

    function test_setGuardians_notController_reverts() public {
        address[] memory g = _pool(2);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotController.selector, MALLORY));
        vm.prank(MALLORY);
        registry.setGuardians(g, 2, DELAY);
    }

    function test_setGuardians_count_reverts() public {
        address[] memory one = _pool(1);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidGuardianCount.selector, 1));
        vm.prank(ALICE);
        registry.setGuardians(one, 2, DELAY);
        address[] memory eleven = _pool(11);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidGuardianCount.selector, 11));
        vm.prank(ALICE);
        registry.setGuardians(eleven, 2, DELAY);
        _setGuardians(ALICE, 10, 10, DELAY); // the maximum is allowed
    }

    function test_setGuardians_threshold_reverts() public {
        address[] memory g = _pool(3);
        uint8[3] memory bad = [0, 1, 4];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidThreshold.selector, bad[i], 3)
            );
            vm.prank(ALICE);
            registry.setGuardians(g, bad[i], DELAY);
        }
    }

    function test_setGuardians_delay_reverts() public {
        address[] memory g = _pool(2);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidRecoveryDelay.selector, 1 days - 1)
        );
        vm.prank(ALICE);
        registry.setGuardians(g, 2, 1 days - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidRecoveryDelay.selector, 30 days + 1)
        );
        vm.prank(ALICE);
        registry.setGuardians(g, 2, 30 days + 1);
        _setGuardians(ALICE, 2, 2, 1 days);
        _setGuardians(ALICE, 2, 2, 30 days);
    }

    function test_setGuardians_invalidGuardian_reverts() public {
        address[] memory g = _pool(3);
        g[1] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidGuardian.selector, address(0)));
        vm.prank(ALICE);
        registry.setGuardians(g, 2, DELAY);

        g[1] = ALICE;
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidGuardian.selector, ALICE));
        vm.prank(ALICE);
        registry.setGuardians(g, 2, DELAY);

        g[1] = g[2];
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidGuardian.selector, g[2]));
        vm.prank(ALICE);
        registry.setGuardians(g, 2, DELAY);
    }

    function test_setGuardians_afterRecovery_refusesAccountAndNewController() public {
        _recover(NEW_WALLET);
        address[] memory g = _pool(2);
        g[1] = NEW_WALLET;
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidGuardian.selector, NEW_WALLET));
        vm.prank(NEW_WALLET);
        registry.setGuardians(g, 2, DELAY);
        g[1] = ALICE;
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidGuardian.selector, ALICE));
        vm.prank(NEW_WALLET);
        registry.setGuardians(g, 2, DELAY);
        // The old wallet no longer may.
        g[1] = _guardian(5);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotController.selector, ALICE));
        vm.prank(ALICE);
        registry.setGuardians(g, 2, DELAY);
        // The new one may (pending, as guardians already exist).
        vm.prank(NEW_WALLET);
        registry.setGuardians(g, 2, DELAY);
        assertEq(registry.pendingGuardianChange(ALICE).effectiveAt, block.timestamp + 48 hours);
    }

    // ---------------------------------------------------------------- apply / cancel guardian change

    function test_applyGuardianChange_none_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoPendingGuardianChange.selector, ALICE)
        );
        registry.applyGuardianChange(ALICE);
    }

    function test_applyGuardianChange_duringRecovery_reverts() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        _setGuardians(ALICE, 2, 2, DELAY);
        uint64 nonce = _start(_guardian(0), NEW_WALLET);
        vm.warp(T0 + 48 hours);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__RecoveryActive.selector, ALICE, nonce));
        registry.applyGuardianChange(ALICE);
        // Once the controller cancels, the change may be applied.
        vm.prank(ALICE);
        registry.cancelRecovery();
        registry.applyGuardianChange(ALICE);
        (address[] memory g,,) = registry.guardiansOf(ALICE);
        assertEq(g.length, 2);
    }

    function test_cancelGuardianChange() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        _setGuardians(ALICE, 2, 2, DELAY);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotController.selector, MALLORY));
        vm.prank(MALLORY);
        registry.cancelGuardianChange();

        vm.expectEmit(true, false, false, true, address(registry));
        emit IPatientRegistry.GuardianChangeCancelled(ALICE);
        vm.prank(ALICE);
        registry.cancelGuardianChange();
        assertEq(registry.pendingGuardianChange(ALICE).effectiveAt, 0);

        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoPendingGuardianChange.selector, ALICE)
        );
        vm.prank(ALICE);
        registry.cancelGuardianChange();
        vm.warp(T0 + 48 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoPendingGuardianChange.selector, ALICE)
        );
        registry.applyGuardianChange(ALICE);
        assertEq(_hashGuardians(ALICE), keccak256(abi.encode(_pool(3), uint8(2), DELAY)));
    }

    // ---------------------------------------------------------------- startRecovery

    function test_start_storesFirstApprovalAndEmits() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        vm.warp(T0 + 5);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IPatientRegistry.RecoveryStarted(ALICE, 1, NEW_WALLET, KEY_B, _guardian(2));
        uint64 nonce = _start(_guardian(2), NEW_WALLET);
        assertEq(nonce, 1);
        IPatientRegistry.Recovery memory r = registry.recoveryOf(ALICE);
        assertEq(r.newController, NEW_WALLET);
        assertEq(r.recoveryKey, KEY_B);
        assertEq(r.approvals, 1 << 2);
        assertEq(r.approvalCount, 1);
        assertEq(r.startedAt, T0 + 5);
        assertEq(r.readyAt, 0);
        // Nothing moved yet.
        assertEq(registry.controllerOf(ALICE), ALICE);
        assertEq(registry.accountOf(NEW_WALLET), address(0));
    }

    function test_start_noGuardians_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoGuardians.selector, ALICE));
        _start(_guardian(0), NEW_WALLET);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoGuardians.selector, MALLORY));
        vm.prank(_guardian(0));
        registry.startRecovery(MALLORY, NEW_WALLET, KEY_B);
    }

    function test_start_notGuardian_reverts() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        address[4] memory outsiders = [MALLORY, ALICE, BOB, _guardian(3)];
        for (uint256 i = 0; i < outsiders.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotGuardian.selector, ALICE, outsiders[i])
            );
            _start(outsiders[i], NEW_WALLET);
        }
        // A pending (not yet applied) guardian is not a guardian.
        address[] memory next = new address[](2);
        next[0] = MALLORY;
        next[1] = _guardian(9);
        vm.prank(ALICE);
        registry.setGuardians(next, 2, DELAY);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotGuardian.selector, ALICE, MALLORY));
        _start(MALLORY, NEW_WALLET);
    }

    function test_start_invalidNewController_reverts() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        // zero, the account itself, another patient, a guardian of the account
        address[4] memory bad = [address(0), ALICE, BOB, _guardian(1)];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidNewController.selector, bad[i])
            );
            _start(_guardian(0), bad[i]);
        }
        // A wallet that controls another account.
        vm.prank(BOB);
        registry.setGuardians(_pool(2), 2, DELAY);
        vm.prank(_guardian(0));
        registry.startRecovery(BOB, NEWER_WALLET, KEY_A);
        vm.prank(_guardian(1));
        registry.approveRecovery(BOB, 1);
        vm.warp(block.timestamp + DELAY);
        registry.completeRecovery(BOB);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidNewController.selector, NEWER_WALLET)
        );
        _start(_guardian(0), NEWER_WALLET);
    }

    function test_start_invalidKey_reverts() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidKey.selector, bytes32(0)));
        vm.prank(_guardian(0));
        registry.startRecovery(ALICE, NEW_WALLET, bytes32(0));
    }

    function test_start_whileActive_reverts() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        uint64 nonce = _start(_guardian(0), NEW_WALLET);
        vm.warp(T0 + 7 days - 1);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__RecoveryActive.selector, ALICE, nonce));
        _start(_guardian(1), NEWER_WALLET);
    }

    function test_start_replacesARecoveryWithoutQuorumAfterTheWindow() public {
        _setGuardians(ALICE, 4, 3, DELAY);
        uint64 first = _start(_guardian(0), MALLORY); // a lone bad guardian
        _approve(_guardian(3), first);
        vm.warp(T0 + 7 days);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IPatientRegistry.RecoveryCancelled(ALICE, first, _guardian(1));
        uint64 second = _start(_guardian(1), NEW_WALLET);
        assertEq(second, 2);
        IPatientRegistry.Recovery memory r = registry.recoveryOf(ALICE);
        assertEq(r.newController, NEW_WALLET);
        assertEq(r.approvalCount, 1);
        assertEq(r.approvals, 1 << 1);
        // The replaced recovery's approvals are void, and it cannot be approved any more.
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__WrongRecovery.selector, ALICE, first, second)
        );
        _approve(_guardian(2), first);
        // The new one is protected by the window in turn.
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__RecoveryActive.selector, ALICE, second));
        _start(_guardian(0), MALLORY);
    }

    function test_start_neverReplacesARecoveryWithQuorum() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        uint64 nonce = _start(_guardian(0), NEW_WALLET);
        _approve(_guardian(1), nonce);
        vm.warp(T0 + 30 days);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__RecoveryActive.selector, ALICE, nonce));
        _start(_guardian(2), NEWER_WALLET);
    }

    function test_start_replacesARecoveryWhoseWalletTookAnotherAccount() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        uint64 first = _start(_guardian(0), NEW_WALLET);
        _approve(_guardian(1), first);
        // NEW_WALLET registers itself (or is moved to another account) before ALICE's recovery completes.
        vm.prank(NEW_WALLET);
        registry.register(KEY_B);
        vm.warp(T0 + DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidNewController.selector, NEW_WALLET)
        );
        registry.completeRecovery(ALICE);
        // So the guardians may start a new one at once.
        uint64 second = _start(_guardian(2), NEWER_WALLET);
        assertEq(second, first + 1);
    }

    // ---------------------------------------------------------------- approveRecovery

    function test_approve_reachesQuorumAndEmitsReady() public {
        _setGuardians(ALICE, 4, 3, DELAY);
        uint64 nonce = _start(_guardian(0), NEW_WALLET);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IPatientRegistry.RecoveryApproved(ALICE, nonce, _guardian(2), 2);
        _approve(_guardian(2), nonce);
        assertEq(registry.recoveryOf(ALICE).readyAt, 0);

        vm.warp(T0 + 1 hours);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IPatientRegistry.RecoveryApproved(ALICE, nonce, _guardian(3), 3);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IPatientRegistry.RecoveryReady(ALICE, nonce, T0 + 1 hours + DELAY);
        _approve(_guardian(3), nonce);
        IPatientRegistry.Recovery memory r = registry.recoveryOf(ALICE);
        assertEq(r.approvals, (1 << 0) | (1 << 2) | (1 << 3));
        assertEq(r.approvalCount, 3);
        assertEq(r.readyAt, T0 + 1 hours + DELAY);

        // A later approval does not move readyAt.
        vm.warp(T0 + 2 hours);
        _approve(_guardian(1), nonce);
        assertEq(registry.recoveryOf(ALICE).readyAt, T0 + 1 hours + DELAY);
        assertEq(registry.recoveryOf(ALICE).approvalCount, 4);
    }

    function test_approve_twice_reverts() public {
        _setGuardians(ALICE, 3, 3, DELAY);
        uint64 nonce = _start(_guardian(0), NEW_WALLET);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__AlreadyApproved.selector, ALICE, nonce, _guardian(0))
        );
        _approve(_guardian(0), nonce);
        _approve(_guardian(1), nonce);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__AlreadyApproved.selector, ALICE, nonce, _guardian(1))
        );
        _approve(_guardian(1), nonce);
        assertEq(registry.recoveryOf(ALICE).approvalCount, 2);
    }

    function test_approve_errors() public {
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoGuardians.selector, ALICE));
        _approve(_guardian(0), 1);
        _setGuardians(ALICE, 3, 2, DELAY);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoActiveRecovery.selector, ALICE));
        _approve(_guardian(0), 1);
        uint64 nonce = _start(_guardian(0), NEW_WALLET);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotGuardian.selector, ALICE, MALLORY));
        _approve(MALLORY, nonce);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__WrongRecovery.selector, ALICE, nonce + 1, nonce)
        );
        _approve(_guardian(1), nonce + 1);
    }

    // ---------------------------------------------------------------- cancelRecovery

    function test_cancel_byController_voidsApprovals() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        uint64 nonce = _start(_guardian(0), MALLORY);
        _approve(_guardian(1), nonce);
        vm.warp(T0 + DELAY - 1);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IPatientRegistry.RecoveryCancelled(ALICE, nonce, ALICE);
        vm.prank(ALICE);
        registry.cancelRecovery();
        assertEq(registry.recoveryOf(ALICE).nonce, 0);
        vm.warp(T0 + DELAY);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoActiveRecovery.selector, ALICE));
        registry.completeRecovery(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoActiveRecovery.selector, ALICE));
        _approve(_guardian(2), nonce);
        assertEq(registry.controllerOf(ALICE), ALICE);
        assertEq(registry.accountOf(MALLORY), address(0));

        // A new recovery starts from its starter's approval alone; the old approvals do not carry over.
        uint64 next = _start(_guardian(2), NEW_WALLET);
        assertEq(next, nonce + 1);
        assertEq(registry.recoveryOf(ALICE).approvalCount, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__WrongRecovery.selector, ALICE, nonce, next)
        );
        _approve(_guardian(1), nonce);
    }

    function test_cancel_errors() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoActiveRecovery.selector, ALICE));
        vm.prank(ALICE);
        registry.cancelRecovery();
        _start(_guardian(0), NEW_WALLET);
        // Guardians and strangers cannot cancel.
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotController.selector, _guardian(1))
        );
        vm.prank(_guardian(1));
        registry.cancelRecovery();
        // Another patient cancelling cancels only its own (none).
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoActiveRecovery.selector, BOB));
        vm.prank(BOB);
        registry.cancelRecovery();
        assertEq(registry.recoveryOf(ALICE).nonce, 1);
    }

    // ---------------------------------------------------------------- completeRecovery

    function test_complete_movesControl() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        _setGuardians(ALICE, 2, 2, DELAY); // a pending change (say, by a thief) that completion drops
        uint64 nonce = _start(_guardian(0), NEW_WALLET);
        _approve(_guardian(2), nonce);
        uint64 readyAt = registry.recoveryOf(ALICE).readyAt;
        assertEq(readyAt, T0 + DELAY);

        vm.warp(readyAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__RecoveryNotReady.selector, ALICE, readyAt)
        );
        registry.completeRecovery(ALICE);

        vm.warp(readyAt);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IPatientRegistry.GuardianChangeCancelled(ALICE);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IPatientRegistry.AccountRecovered(ALICE, nonce, ALICE, NEW_WALLET);
        vm.prank(MALLORY); // anyone may complete
        registry.completeRecovery(ALICE);

        assertEq(registry.controllerOf(ALICE), NEW_WALLET);
        assertEq(registry.accountOf(NEW_WALLET), ALICE);
        assertEq(registry.accountOf(ALICE), address(0));
        assertEq(registry.recoveryOf(ALICE).nonce, 0);
        assertEq(registry.pendingGuardianChange(ALICE).effectiveAt, 0);
        IPatientRegistry.CompletedRecovery memory c = registry.completedRecovery(ALICE);
        assertEq(c.nonce, nonce);
        assertEq(c.previousController, ALICE);
        assertEq(c.newController, NEW_WALLET);
        assertEq(c.recoveryKey, KEY_B);
        assertEq(c.completedAt, readyAt);
        // The account, its key and its guardians stay.
        assertTrue(registry.isRegistered(ALICE));
        assertEq(registry.encryptionKeyOf(ALICE), KEY_A);
        assertEq(registry.registeredAt(ALICE), T0);
        assertEq(_hashGuardians(ALICE), keccak256(abi.encode(_pool(3), uint8(2), DELAY)));
        assertEq(registry.patientCount(), 2);
        // The old wallet can no longer cancel (there is nothing of its own to cancel).
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotController.selector, ALICE));
        vm.prank(ALICE);
        registry.cancelRecovery();
    }

    function test_complete_errors() public {
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoActiveRecovery.selector, ALICE));
        registry.completeRecovery(ALICE);
        _setGuardians(ALICE, 3, 3, DELAY);
        uint64 nonce = _start(_guardian(0), NEW_WALLET);
        _approve(_guardian(1), nonce);
        vm.warp(T0 + 365 days);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotEnoughApprovals.selector, ALICE, 2, 3)
        );
        registry.completeRecovery(ALICE);
        assertEq(registry.controllerOf(ALICE), ALICE);
    }

    function test_complete_twiceInARow_movesOnAndCountsNonces() public {
        _recover(NEW_WALLET);
        // The new controller can cancel the next recovery; the old wallet cannot stop it.
        uint64 nonce = _start(_guardian(1), NEWER_WALLET);
        assertEq(nonce, 2);
        vm.prank(NEW_WALLET);
        registry.cancelRecovery();
        nonce = _start(_guardian(1), NEWER_WALLET);
        assertEq(nonce, 3);
        _approve(_guardian(2), nonce);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotController.selector, ALICE));
        vm.prank(ALICE);
        registry.cancelRecovery();
        vm.warp(registry.recoveryOf(ALICE).readyAt);
        registry.completeRecovery(ALICE);
        assertEq(registry.controllerOf(ALICE), NEWER_WALLET);
        assertEq(registry.accountOf(NEWER_WALLET), ALICE);
        assertEq(registry.accountOf(NEW_WALLET), address(0));
        assertEq(registry.completedRecovery(ALICE).nonce, 3);
        assertEq(registry.completedRecovery(ALICE).previousController, NEW_WALLET);
    }

    function test_maliciousGuardianAlone_getsNothing() public {
        _setGuardians(ALICE, 3, 2, DELAY);
        address bad = _guardian(0);
        uint64 nonce = _start(bad, MALLORY);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__AlreadyApproved.selector, ALICE, nonce, bad)
        );
        _approve(bad, nonce);
        vm.warp(T0 + 30 days);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotEnoughApprovals.selector, ALICE, 1, 2)
        );
        registry.completeRecovery(ALICE);
        // Restarting (after the window) only starts over at one approval.
        nonce = _start(bad, MALLORY);
        assertEq(registry.recoveryOf(ALICE).approvalCount, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotEnoughApprovals.selector, ALICE, 1, 2)
        );
        registry.completeRecovery(ALICE);
        assertEq(registry.controllerOf(ALICE), ALICE);
        assertEq(registry.accountOf(MALLORY), address(0));
    }

    // ---------------------------------------------------------------- fuzz

    /// Fewer than `threshold` distinct approvals never complete, however long one waits.
    function testFuzz_fewerThanThreshold_neverCompletes(uint256 m, uint256 t, uint256 k, uint256 seed, uint32 wait)
        public
    {
        m = bound(m, 2, 10);
        t = bound(t, 2, m);
        k = bound(k, 1, t - 1);
        // casting to 'uint8' is safe because t <= 10
        // forge-lint: disable-next-line(unsafe-typecast)
        _setGuardians(ALICE, m, uint8(t), DELAY);
        uint256[] memory order = _shuffle(m, seed);
        uint64 nonce = _start(_guardian(order[0]), NEW_WALLET);
        for (uint256 i = 1; i < k; ++i) _approve(_guardian(order[i]), nonce);
        // Repeats by the same guardians do not count.
        for (uint256 i = 0; i < k; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IPatientRegistry.PatientRegistry__AlreadyApproved.selector, ALICE, nonce, _guardian(order[i])
                )
            );
            _approve(_guardian(order[i]), nonce);
        }
        vm.warp(block.timestamp + wait);
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotEnoughApprovals.selector, ALICE, k, t)
        );
        registry.completeRecovery(ALICE);
        assertEq(registry.controllerOf(ALICE), ALICE);
        assertEq(registry.accountOf(ALICE), ALICE);
        assertEq(registry.accountOf(NEW_WALLET), address(0));
        assertEq(registry.recoveryOf(ALICE).readyAt, 0);
    }

    /// Completing before readyAt always reverts; at readyAt it succeeds.
    function testFuzz_completeBeforeReadyAt_reverts(uint256 m, uint256 t, uint32 delay, uint256 seed, uint256 early)
        public
    {
        m = bound(m, 2, 10);
        t = bound(t, 2, m);
        delay = uint32(bound(delay, 1 days, 30 days));
        // casting to 'uint8' is safe because t <= 10
        // forge-lint: disable-next-line(unsafe-typecast)
        _setGuardians(ALICE, m, uint8(t), delay);
        uint256[] memory order = _shuffle(m, seed);
        uint64 nonce = _start(_guardian(order[0]), NEW_WALLET);
        for (uint256 i = 1; i < t; ++i) {
            vm.warp(block.timestamp + 1 hours);
            _approve(_guardian(order[i]), nonce);
        }
        uint64 quorumAt = uint64(block.timestamp);
        uint64 readyAt = registry.recoveryOf(ALICE).readyAt;
        assertEq(readyAt, quorumAt + delay);

        vm.warp(quorumAt + bound(early, 0, delay - 1));
        vm.expectRevert(
            abi.encodeWithSelector(IPatientRegistry.PatientRegistry__RecoveryNotReady.selector, ALICE, readyAt)
        );
        registry.completeRecovery(ALICE);
        assertEq(registry.controllerOf(ALICE), ALICE);

        vm.warp(readyAt);
        registry.completeRecovery(ALICE);
        assertEq(registry.controllerOf(ALICE), NEW_WALLET);
    }

    /// A cancelled recovery leaves controller, guardians and key unchanged, and its approvals are void.
    function testFuzz_cancel_changesNothing(uint256 m, uint256 t, uint256 k, uint256 seed, uint32 wait, bool pending)
        public
    {
        m = bound(m, 2, 10);
        t = bound(t, 2, m);
        k = bound(k, 1, m);
        // casting to 'uint8' is safe because t <= 10
        // forge-lint: disable-next-line(unsafe-typecast)
        _setGuardians(ALICE, m, uint8(t), DELAY);
        if (pending) _setGuardians(ALICE, 2, 2, 1 days);
        bytes32 guardiansBefore = _hashGuardians(ALICE);
        bytes32 pendingBefore = keccak256(abi.encode(registry.pendingGuardianChange(ALICE)));

        uint256[] memory order = _shuffle(m, seed);
        uint64 nonce = _start(_guardian(order[0]), NEW_WALLET);
        for (uint256 i = 1; i < k; ++i) _approve(_guardian(order[i]), nonce);
        vm.warp(block.timestamp + bound(wait, 0, DELAY - 1));
        vm.prank(ALICE);
        registry.cancelRecovery();

        assertEq(registry.controllerOf(ALICE), ALICE);
        assertEq(registry.accountOf(ALICE), ALICE);
        assertEq(registry.accountOf(NEW_WALLET), address(0));
        assertEq(registry.encryptionKeyOf(ALICE), KEY_A);
        assertEq(_hashGuardians(ALICE), guardiansBefore);
        assertEq(keccak256(abi.encode(registry.pendingGuardianChange(ALICE))), pendingBefore);
        assertEq(registry.completedRecovery(ALICE).nonce, 0);
        assertEq(registry.recoveryOf(ALICE).nonce, 0);

        vm.warp(block.timestamp + 31 days);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NoActiveRecovery.selector, ALICE));
        registry.completeRecovery(ALICE);
        // The next recovery counts only its own approvals: t - 1 more are needed, as from scratch.
        uint64 next = _start(_guardian(order[0]), NEW_WALLET);
        for (uint256 i = 1; i < k && i < t - 1; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IPatientRegistry.PatientRegistry__WrongRecovery.selector, ALICE, nonce, next)
            );
            _approve(_guardian(order[i]), nonce);
            _approve(_guardian(order[i]), next);
        }
        assertEq(registry.recoveryOf(ALICE).readyAt, 0);
        vm.expectRevert();
        registry.completeRecovery(ALICE);
        assertEq(registry.controllerOf(ALICE), ALICE);
    }

    /// Whoever is not a guardian can neither start nor approve.
    function testFuzz_nonGuardian_cannotStartOrApprove(address stranger, uint256 m) public {
        m = bound(m, 2, 10);
        for (uint256 i = 0; i < m; ++i) vm.assume(stranger != _guardian(i));
        _setGuardians(ALICE, m, 2, DELAY);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotGuardian.selector, ALICE, stranger));
        _start(stranger, NEW_WALLET);
        uint64 nonce = _start(_guardian(0), NEW_WALLET);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotGuardian.selector, ALICE, stranger));
        _approve(stranger, nonce);
        assertEq(registry.recoveryOf(ALICE).approvalCount, 1);
    }

    /// A random permutation of 0..m-1 (Fisher-Yates on a seed).
    function _shuffle(uint256 m, uint256 seed) internal pure returns (uint256[] memory order) {
        order = new uint256[](m);
        for (uint256 i = 0; i < m; ++i) order[i] = i;
        for (uint256 i = m - 1; i > 0; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, i))) % (i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
