// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {PatientRegistry} from "../../src/PatientRegistry.sol";
import {IPatientRegistry} from "../../src/interfaces/IPatientRegistry.sol";

/// @dev Drives one account through fuzzed orderings of start / approve / cancel / complete / warp,
///      guardian changes (propose, apply, cancel) and key rotations, by guardians, the controller, the
///      old controllers and strangers alike. It keeps its own books -- who approved which nonce, when each
///      nonce reached quorum, which nonces were cancelled or replaced -- and counts every call whose
///      outcome the rules forbid: a completion without `threshold` distinct guardian approvals of that very
///      nonce or before quorum + delay, a successful call by a wallet with no right to it, an approval of a
///      void nonce. The invariant test asserts those counts stay 0 and that the registry agrees with the books.
contract GuardianRecoveryHandler is Test {
    uint256 internal constant POOL = 8;
    uint256 internal constant FRESH = 12;
    bytes32 internal constant KEY_B = 0xde9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f;

    PatientRegistry internal immutable registry;
    address internal immutable account;
    address internal immutable otherPatient;
    address internal constant STRANGER = address(0xBAD);

    address public ghostController;
    address[] public oldControllers;
    mapping(uint64 nonce => address[]) internal approvers;
    mapping(uint64 nonce => uint64) public ghostQuorumAt;
    mapping(uint64 nonce => bool) public ghostVoid;
    uint64 public ghostLastNonce;

    uint256 public ghostBadCompletions;
    uint256 public ghostUnauthorizedChanges;
    uint256 public ghostVoidApprovalsAccepted;
    uint256 public ghostDuplicateApprovals;
    uint256 public ghostLivenessFailures;
    uint256 public ghostNonceSkips;
    uint256 public ghostControllerChanges;
    mapping(string => uint256) public calls;

    constructor(PatientRegistry registry_, address account_, address otherPatient_) {
        registry = registry_;
        account = account_;
        otherPatient = otherPatient_;
        ghostController = account_;
    }

    function pool(uint256 i) public pure returns (address) {
        // casting to 'uint160' is safe because i is a small index
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(0x6000 + i));
    }

    function approverCount(uint64 nonce) external view returns (uint256) {
        return approvers[nonce].length;
    }

    function oldControllerCount() external view returns (uint256) {
        return oldControllers.length;
    }

    // ------------------------------------------------------------------ recovery

    function start(uint256 callerSeed, uint256 walletSeed) external {
        address caller = _recoveryActor(callerSeed);
        address newController = _newControllerCandidate(walletSeed);
        IPatientRegistry.Recovery memory before = registry.recoveryOf(account);
        bool guardian = _isGuardian(caller);
        vm.prank(caller);
        try registry.startRecovery(account, newController, KEY_B) {
            if (!guardian) ghostUnauthorizedChanges++;
            if (before.nonce != 0) {
                // Only a recovery without quorum past the window, or whose wallet can no longer take over,
                // may be replaced.
                bool stale = before.readyAt == 0
                    && block.timestamp >= uint256(before.startedAt) + registry.RECOVERY_QUORUM_WINDOW();
                bool walletGone = registry.isRegistered(before.newController)
                    || registry.accountOf(before.newController) != address(0);
                if (!stale && !walletGone) ghostUnauthorizedChanges++;
                ghostVoid[before.nonce] = true;
            }
            uint64 nonce = registry.recoveryOf(account).nonce;
            if (nonce != ghostLastNonce + 1) ghostNonceSkips++;
            ghostLastNonce = nonce;
            approvers[nonce].push(caller);
            calls["start"]++;
        } catch {
            calls["start refused"]++;
        }
    }

    function approve(uint256 callerSeed, uint256 nonceSeed) external {
        address caller = _recoveryActor(callerSeed);
        uint64 active = registry.recoveryOf(account).nonce;
        // Mostly the active nonce; sometimes an earlier (void) one, or one not yet started.
        // casting to 'uint64' is safe because the bound is at most ghostLastNonce + 1
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 nonce = nonceSeed % 4 == 0 || active == 0 ? uint64(bound(nonceSeed, 1, ghostLastNonce + 1)) : active;
        bool guardian = _isGuardian(caller);
        vm.prank(caller);
        try registry.approveRecovery(account, nonce) {
            if (!guardian) ghostUnauthorizedChanges++;
            if (ghostVoid[nonce] || nonce != active) ghostVoidApprovalsAccepted++;
            address[] storage list = approvers[nonce];
            for (uint256 i = 0; i < list.length; ++i) {
                if (list[i] == caller) ghostDuplicateApprovals++;
            }
            list.push(caller);
            (, uint8 threshold,) = registry.guardiansOf(account);
            if (list.length == threshold) ghostQuorumAt[nonce] = uint64(block.timestamp);
            calls["approve"]++;
        } catch {
            calls["approve refused"]++;
        }
    }

    function cancel(uint256 callerSeed) external {
        // The controller cancels now and then (so recoveries also run to completion); others try often.
        address caller = callerSeed % 8 == 0 ? ghostController : _otherActor(callerSeed / 8);
        uint64 nonce = registry.recoveryOf(account).nonce;
        bytes32 snapshot = _state();
        vm.prank(caller);
        try registry.cancelRecovery() {
            // Whoever else succeeds (the other patient, for its own account) must leave ours untouched.
            if (caller != ghostController) {
                if (_state() != snapshot) ghostUnauthorizedChanges++;
                return;
            }
            ghostVoid[nonce] = true;
            calls["cancel"]++;
        } catch {
            calls["cancel refused"]++;
        }
    }

    function complete(uint256 callerSeed) external {
        address caller = _anyActor(callerSeed);
        IPatientRegistry.Recovery memory r = registry.recoveryOf(account);
        (address[] memory guardians, uint8 threshold, uint32 delay) = registry.guardiansOf(account);
        address previous = registry.controllerOf(account);
        bool due = r.nonce != 0 && approvers[r.nonce].length >= threshold && ghostQuorumAt[r.nonce] != 0
            && block.timestamp >= uint256(ghostQuorumAt[r.nonce]) + delay;
        bool fresh = r.newController != address(0) && !registry.isRegistered(r.newController)
            && registry.accountOf(r.newController) == address(0);
        vm.prank(caller);
        try registry.completeRecovery(account) {
            if (!due || ghostVoid[r.nonce] || !_allIn(approvers[r.nonce], guardians)) ghostBadCompletions++;
            if (registry.controllerOf(account) != r.newController) ghostBadCompletions++;
            oldControllers.push(previous);
            ghostController = r.newController;
            ghostControllerChanges++;
            calls["complete"]++;
        } catch {
            if (due && fresh) ghostLivenessFailures++;
            calls["complete refused"]++;
        }
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1 hours, 4 days));
        calls["warp"]++;
    }

    // ------------------------------------------------------------------ guardians and keys

    function proposeGuardians(uint256 callerSeed, uint256 setSeed, uint256 t, uint256 delay) external {
        address caller = callerSeed % 3 == 0 ? _anyActor(callerSeed / 3) : ghostController;
        uint256 m = bound(setSeed, 2, POOL);
        address[] memory set = new address[](m);
        uint256 offset = setSeed / POOL;
        for (uint256 i = 0; i < m; ++i) set[i] = pool((offset + i) % POOL);
        // Thresholds up to 4, so that runs reach quorum often enough to complete.
        // casting to 'uint8' is safe because the bound is at most 4
        // forge-lint: disable-next-line(unsafe-typecast)
        uint8 threshold = uint8(bound(t, 2, m < 4 ? m : 4));
        // casting to 'uint32' is safe because the bound is at most 4 days
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 recoveryDelay = uint32(bound(delay, 1 days, 4 days));
        bytes32 snapshot = _state();
        vm.prank(caller);
        try registry.setGuardians(set, threshold, recoveryDelay) {
            if (caller != ghostController && _state() != snapshot) ghostUnauthorizedChanges++;
            calls["propose guardians"]++;
        } catch {
            calls["propose refused"]++;
        }
    }

    function applyGuardianChange(uint256 callerSeed) external {
        IPatientRegistry.GuardianChange memory pending = registry.pendingGuardianChange(account);
        uint64 active = registry.recoveryOf(account).nonce;
        vm.prank(_anyActor(callerSeed));
        try registry.applyGuardianChange(account) {
            if (active != 0 || pending.effectiveAt == 0 || block.timestamp < pending.effectiveAt) {
                ghostUnauthorizedChanges++;
            }
            calls["apply guardians"]++;
        } catch {
            calls["apply refused"]++;
        }
    }

    function cancelGuardianChange(uint256 callerSeed) external {
        address caller = callerSeed % 2 == 0 ? ghostController : _anyActor(callerSeed);
        bytes32 snapshot = _state();
        vm.prank(caller);
        try registry.cancelGuardianChange() {
            if (caller != ghostController && _state() != snapshot) ghostUnauthorizedChanges++;
            calls["cancel guardians"]++;
        } catch {
            calls["cancel guardians refused"]++;
        }
    }

    /// @dev Anyone but the controller trying to rotate the account's key (the old wallets included).
    function rotateByOther(uint256 callerSeed) external {
        address caller = _anyActor(callerSeed);
        if (caller == ghostController) return;
        bytes32 snapshot = _state();
        vm.prank(caller);
        try registry.rotateEncryptionKey(KEY_B) {
            if (_state() != snapshot) ghostUnauthorizedChanges++;
        } catch {}
        calls["rotate by other"]++;
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Mostly a current guardian; else anyone.
    function _recoveryActor(uint256 seed) internal view returns (address) {
        (address[] memory guardians,,) = registry.guardiansOf(account);
        if (seed % 4 != 0 && guardians.length != 0) return guardians[(seed / 4) % guardians.length];
        return _anyActor(seed / 4);
    }

    /// @dev A pool wallet (guardian or not), a stranger, the other patient, the controller or an old controller.
    function _anyActor(uint256 seed) internal view returns (address) {
        uint256 pick = seed % (POOL + 4);
        if (pick < POOL) return pool(pick);
        if (pick == POOL) return STRANGER;
        if (pick == POOL + 1) return otherPatient;
        if (pick == POOL + 2 || oldControllers.length == 0) return ghostController;
        return oldControllers[(seed / (POOL + 4)) % oldControllers.length];
    }

    /// @dev Anyone but the controller: a pool wallet, a stranger, the other patient or an old controller.
    function _otherActor(uint256 seed) internal view returns (address) {
        address actor = _anyActor(seed);
        return actor == ghostController ? STRANGER : actor;
    }

    /// @dev Mostly a wallet from a small fresh set (so some get reused once they control the account);
    ///      sometimes one the rules refuse: zero, a guardian, the account, the other patient, the controller.
    function _newControllerCandidate(uint256 seed) internal view returns (address) {
        uint256 pick = seed % 8;
        if (pick == 0) return address(0);
        if (pick == 1) return pool(seed % POOL);
        if (pick == 2) return seed % 2 == 0 ? account : otherPatient;
        if (pick == 3) return ghostController;
        return address(uint160(uint256(keccak256(abi.encode("fresh wallet", seed % FRESH)))));
    }

    function _isGuardian(address who) internal view returns (bool) {
        (address[] memory guardians,,) = registry.guardiansOf(account);
        for (uint256 i = 0; i < guardians.length; ++i) {
            if (guardians[i] == who) return true;
        }
        return false;
    }

    function _allIn(address[] storage list, address[] memory set) internal view returns (bool) {
        for (uint256 i = 0; i < list.length; ++i) {
            bool found;
            for (uint256 j = 0; j < set.length; ++j) {
                if (set[j] == list[i]) found = true;
            }
            if (!found) return false;
        }
        return true;
    }

    /// @dev Everything about the account a call could change.
    function _state() internal view returns (bytes32) {
        address controller = registry.controllerOf(account);
        (address[] memory guardians, uint8 threshold, uint32 delay) = registry.guardiansOf(account);
        return keccak256(
            abi.encode(
                controller,
                registry.accountOf(controller),
                guardians,
                threshold,
                delay,
                registry.pendingGuardianChange(account),
                registry.recoveryOf(account),
                registry.completedRecovery(account),
                registry.encryptionKeyOf(account)
            )
        );
    }
}
