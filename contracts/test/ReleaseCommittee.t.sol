// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReleaseCommittee} from "../src/ReleaseCommittee.sol";
import {IReleaseCommittee} from "../src/interfaces/IReleaseCommittee.sol";
import {X25519Key} from "../src/libraries/X25519Key.sol";

abstract contract CommitteeKeys {
    /// @dev A valid X25519 key from a seed: top bit cleared and byte 0 at least 2, like a clamped key.
    function _key(uint256 seed) internal pure returns (bytes32 key) {
        key = keccak256(abi.encode("member key", seed))
            & bytes32(0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3f);
        key |= bytes32(uint256(0x0200000000000000000000000000000000000000000000000000000000000000));
    }

    function _member(uint256 i) internal pure returns (address) {
        return address(uint160(0x1000 + i));
    }
}

contract ReleaseCommitteeTest is Test, CommitteeKeys {
    ReleaseCommittee internal committee;
    address internal constant OWNER = address(0x0E);
    bytes32 internal constant ROOT = keccak256("log batch 1");

    function setUp() public {
        vm.warp(1_700_000_000);
        committee = new ReleaseCommittee(OWNER);
    }

    function _add(uint256 i, uint8 k) internal {
        vm.prank(OWNER);
        committee.addMember(_member(i), _key(i), k);
    }

    // ---------------------------------------------------------------- membership

    function test_initial_emptyEpochZero() public view {
        assertEq(committee.owner(), OWNER);
        assertEq(committee.epoch(), 0);
        assertEq(committee.size(), 0);
        assertEq(committee.threshold(), 0);
        (uint64 epoch, uint8 k, IReleaseCommittee.Member[] memory members) = committee.committee();
        assertEq(epoch, 0);
        assertEq(k, 0);
        assertEq(members.length, 0);
    }

    function test_addMember_storesEmitsAndBumpsEpoch() public {
        vm.expectEmit(true, true, false, true, address(committee));
        emit IReleaseCommittee.MemberAdded(_member(1), _key(1), 1);
        vm.expectEmit(true, false, false, true, address(committee));
        emit IReleaseCommittee.EpochStarted(1, 1, 1);
        _add(1, 1);
        assertTrue(committee.isMember(_member(1)));
        assertEq(committee.encryptionKeyOf(_member(1)), _key(1));
        assertEq(committee.epoch(), 1);
        assertEq(committee.size(), 1);
        assertEq(committee.threshold(), 1);

        _add(2, 2);
        _add(3, 2);
        (uint64 epoch, uint8 k, IReleaseCommittee.Member[] memory members) = committee.committee();
        assertEq(epoch, 3);
        assertEq(k, 2);
        assertEq(members.length, 3);
        assertEq(members[2].account, _member(3));
        assertEq(members[2].encryptionKey, _key(3));
    }

    function test_addMember_notOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, _member(1)));
        vm.prank(_member(1));
        committee.addMember(_member(1), _key(1), 1);
    }

    function test_addMember_invalid_reverts() public {
        vm.startPrank(OWNER);
        vm.expectRevert(IReleaseCommittee.ReleaseCommittee__ZeroAddress.selector);
        committee.addMember(address(0), _key(1), 1);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidKey.selector, bytes32(0)));
        committee.addMember(_member(1), bytes32(0), 1);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidThreshold.selector, 0, 1));
        committee.addMember(_member(1), _key(1), 0);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidThreshold.selector, 2, 1));
        committee.addMember(_member(1), _key(1), 2);
        committee.addMember(_member(1), _key(1), 1);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__AlreadyMember.selector, _member(1)));
        committee.addMember(_member(1), _key(2), 1);
        // One key, one seat: the same key under another address would be two shares for one holder.
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__KeyInUse.selector, _key(1)));
        committee.addMember(_member(2), _key(1), 1);
        vm.stopPrank();
        assertEq(committee.epoch(), 1);
        assertEq(committee.size(), 1);
    }

    function test_addMember_max_reverts() public {
        for (uint256 i = 1; i <= 32; i++) {
            _add(i, 1);
        }
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__TooManyMembers.selector, 32));
        _add(33, 1);
        assertEq(committee.size(), 32);
    }

    function test_removeMember_swapsAndBumpsEpoch() public {
        _add(1, 1);
        _add(2, 2);
        _add(3, 3);
        vm.expectEmit(true, true, false, true, address(committee));
        emit IReleaseCommittee.MemberRemoved(_member(1), 4);
        vm.expectEmit(true, false, false, true, address(committee));
        emit IReleaseCommittee.EpochStarted(4, 2, 2);
        vm.prank(OWNER);
        committee.removeMember(_member(1), 2);
        assertFalse(committee.isMember(_member(1)));
        assertTrue(committee.isMember(_member(3)));
        assertEq(committee.encryptionKeyOf(_member(3)), _key(3));
        (uint64 epoch, uint8 k, IReleaseCommittee.Member[] memory members) = committee.committee();
        assertEq(epoch, 4);
        assertEq(k, 2);
        assertEq(members.length, 2);
        assertEq(members[0].account, _member(3));
        assertEq(members[1].account, _member(2));
        // Its key is free again.
        _add(1, 2);
        assertEq(committee.size(), 3);
    }

    function test_removeMember_thresholdAboveSize_reverts() public {
        _add(1, 1);
        _add(2, 2);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidThreshold.selector, 2, 1));
        vm.prank(OWNER);
        committee.removeMember(_member(1), 2);
        assertEq(committee.size(), 2);
        assertEq(committee.epoch(), 2);
    }

    function test_removeMember_last_thresholdZero() public {
        _add(1, 1);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidThreshold.selector, 1, 0));
        vm.prank(OWNER);
        committee.removeMember(_member(1), 1);
        vm.prank(OWNER);
        committee.removeMember(_member(1), 0);
        assertEq(committee.size(), 0);
        assertEq(committee.threshold(), 0);
        assertEq(committee.epoch(), 2);
    }

    function test_removeMember_notMemberOrNotOwner_reverts() public {
        _add(1, 1);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__NotMember.selector, _member(2)));
        vm.prank(OWNER);
        committee.removeMember(_member(2), 1);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, _member(1)));
        vm.prank(_member(1));
        committee.removeMember(_member(1), 0);
    }

    function test_setThreshold() public {
        _add(1, 1);
        _add(2, 1);
        _add(3, 1);
        vm.expectEmit(true, false, false, true, address(committee));
        emit IReleaseCommittee.EpochStarted(4, 3, 2);
        vm.prank(OWNER);
        committee.setThreshold(2);
        assertEq(committee.threshold(), 2);
        vm.startPrank(OWNER);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__ThresholdUnchanged.selector, 2));
        committee.setThreshold(2);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidThreshold.selector, 4, 3));
        committee.setThreshold(4);
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidThreshold.selector, 0, 3));
        committee.setThreshold(0);
        vm.stopPrank();
        assertEq(committee.epoch(), 4);
    }

    function test_rotateKey_byMember() public {
        _add(1, 1);
        _add(2, 1);
        vm.expectEmit(true, true, false, true, address(committee));
        emit IReleaseCommittee.MemberKeyRotated(_member(1), _key(1), _key(9), 3);
        vm.prank(_member(1));
        committee.rotateKey(_key(9));
        assertEq(committee.encryptionKeyOf(_member(1)), _key(9));
        assertEq(committee.epoch(), 3);
        vm.startPrank(_member(1));
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__KeyInUse.selector, _key(9)));
        committee.rotateKey(_key(9));
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__KeyInUse.selector, _key(2)));
        committee.rotateKey(_key(2));
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidKey.selector, bytes32(0)));
        committee.rotateKey(bytes32(0));
        // The old key is free again.
        committee.rotateKey(_key(1));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__NotMember.selector, OWNER));
        vm.prank(OWNER);
        committee.rotateKey(_key(5));
    }

    function test_encryptionKeyOf_notMember_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__NotMember.selector, _member(1)));
        committee.encryptionKeyOf(_member(1));
    }

    function test_ownership_twoStep() public {
        vm.prank(OWNER);
        committee.transferOwnership(_member(7));
        assertEq(committee.owner(), OWNER);
        vm.prank(_member(7));
        committee.acceptOwnership();
        assertEq(committee.owner(), _member(7));
    }

    // ---------------------------------------------------------------- log roots

    function test_postLogRoot_recordsAndEmits() public {
        _add(1, 1);
        vm.expectEmit(true, true, true, true, address(committee));
        emit IReleaseCommittee.LogRootPosted(_member(1), ROOT, 40, 1);
        vm.prank(_member(1));
        committee.postLogRoot(ROOT, 40);
        assertTrue(committee.wasPostedBy(ROOT, _member(1)));
        assertFalse(committee.wasPostedBy(ROOT, _member(2)));
        assertFalse(committee.wasPostedBy(keccak256("other"), _member(1)));
        (uint64 epoch, uint64 postedAt) = committee.logRootOf(_member(1), ROOT);
        assertEq(epoch, 1);
        assertEq(postedAt, 1_700_000_000);
        // It stays on record after the member leaves.
        vm.prank(OWNER);
        committee.removeMember(_member(1), 0);
        assertTrue(committee.wasPostedBy(ROOT, _member(1)));
    }

    function test_postLogRoot_invalid_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__NotMember.selector, _member(1)));
        vm.prank(_member(1));
        committee.postLogRoot(ROOT, 1);
        _add(1, 1);
        vm.startPrank(_member(1));
        vm.expectRevert(IReleaseCommittee.ReleaseCommittee__ZeroRoot.selector);
        committee.postLogRoot(bytes32(0), 1);
        vm.expectRevert(IReleaseCommittee.ReleaseCommittee__EmptyLog.selector);
        committee.postLogRoot(ROOT, 0);
        committee.postLogRoot(ROOT, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__RootAlreadyPosted.selector, _member(1), ROOT)
        );
        committee.postLogRoot(ROOT, 1);
        vm.stopPrank();
        // Another member may post the same root (its own log of the same releases).
        _add(2, 1);
        vm.prank(_member(2));
        committee.postLogRoot(ROOT, 1);
        assertEq(committee.epoch(), 2);
    }

    // ---------------------------------------------------------------- fuzz

    /// Adding n members with any thresholds: accepted exactly when 1 <= k <= n; epoch counts successes.
    function testFuzz_thresholdWithinSize(uint8 n, uint256 seed) public {
        n = uint8(bound(n, 1, 32));
        uint64 changes;
        for (uint256 i = 1; i <= n; i++) {
            uint8 k = uint8(uint256(keccak256(abi.encode(seed, i))) % (i + 2));
            bool ok = k >= 1 && k <= i;
            vm.prank(OWNER);
            if (!ok) {
                vm.expectRevert(
                    abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidThreshold.selector, k, i)
                );
                committee.addMember(_member(i), _key(i), k);
                vm.prank(OWNER);
                committee.addMember(_member(i), _key(i), 1);
            } else {
                committee.addMember(_member(i), _key(i), k);
            }
            changes++;
            assertGe(committee.threshold(), 1);
            assertLe(committee.threshold(), committee.size());
        }
        assertEq(committee.epoch(), changes);
        assertEq(committee.size(), n);
    }

    function testFuzz_addMember_acceptsExactlyValidKeys(bytes32 key) public {
        if (!X25519Key.isValid(key)) {
            vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__InvalidKey.selector, key));
        }
        vm.prank(OWNER);
        committee.addMember(_member(1), key, 1);
        assertEq(committee.isMember(_member(1)), X25519Key.isValid(key));
    }

    function testFuzz_onlyMembersPost(address poster, bytes32 root, uint32 count) public {
        vm.assume(root != bytes32(0) && count != 0);
        _add(1, 1);
        bool member = poster == _member(1);
        if (!member) {
            vm.expectRevert(abi.encodeWithSelector(IReleaseCommittee.ReleaseCommittee__NotMember.selector, poster));
        }
        vm.prank(poster);
        committee.postLogRoot(root, count);
        assertEq(committee.wasPostedBy(root, poster), member);
    }
}

/// @dev Drives membership at random; tracks the members in a ghost list.
contract ReleaseCommitteeHandler is Test, CommitteeKeys {
    ReleaseCommittee internal immutable committee;
    address internal immutable owner;
    /// @dev Ghost: successful changes, which must equal the epoch.
    uint64 public changes;
    /// @dev Ghost: the epoch never goes down.
    uint64 public lastEpoch;
    mapping(address => bool) public ghostMember;
    uint256 public ghostSize;
    uint256 internal nextKey = 1000;

    constructor(ReleaseCommittee committee_, address owner_) {
        committee = committee_;
        owner = owner_;
    }

    function add(uint8 i, uint8 k) external {
        address m = _member(uint256(i) % 40);
        // Thresholds near the valid range, so that both sides of the bound are tried often.
        k = uint8(bound(k, 0, uint256(committee.size()) + 2));
        vm.prank(owner);
        try committee.addMember(m, _key(++nextKey), k) {
            ghostMember[m] = true;
            ghostSize++;
            changes++;
        } catch {}
        _sawEpoch();
    }

    function remove(uint8 i, uint8 k) external {
        address m = _member(uint256(i) % 40);
        k = uint8(bound(k, 0, committee.size()));
        vm.prank(owner);
        try committee.removeMember(m, k) {
            ghostMember[m] = false;
            ghostSize--;
            changes++;
        } catch {}
        _sawEpoch();
    }

    function setThreshold(uint8 k) external {
        k = uint8(bound(k, 0, uint256(committee.size()) + 1));
        vm.prank(owner);
        try committee.setThreshold(k) {
            changes++;
        } catch {}
        _sawEpoch();
    }

    function rotate(uint8 i) external {
        address m = _member(uint256(i) % 40);
        vm.prank(m);
        try committee.rotateKey(_key(++nextKey)) {
            changes++;
        } catch {}
        _sawEpoch();
    }

    function post(uint8 i, bytes32 root, uint32 count) external {
        uint64 before = committee.epoch();
        vm.prank(_member(uint256(i) % 40));
        try committee.postLogRoot(root, count) {} catch {}
        // Posting logs is not a membership change.
        assertEq(committee.epoch(), before);
    }

    function _sawEpoch() internal {
        uint64 e = committee.epoch();
        assertGe(e, lastEpoch);
        lastEpoch = e;
    }
}

contract ReleaseCommitteeInvariantTest is Test {
    ReleaseCommittee internal committee;
    ReleaseCommitteeHandler internal handler;
    address internal constant OWNER = address(0x0E);

    function setUp() public {
        committee = new ReleaseCommittee(OWNER);
        handler = new ReleaseCommitteeHandler(committee, OWNER);
        targetContract(address(handler));
    }

    /// k within 1..n (0 only for an empty committee), n within the maximum.
    function invariant_thresholdWithinSize() public view {
        uint8 n = committee.size();
        uint8 k = committee.threshold();
        assertLe(n, committee.MAX_MEMBERS());
        if (n == 0) assertEq(k, 0);
        else assertTrue(k >= 1 && k <= n);
    }

    /// Every change, and nothing else, advanced the epoch by one.
    function invariant_epochCountsChanges() public view {
        assertEq(committee.epoch(), handler.changes());
    }

    /// The member list matches the ghost and its keys are distinct and valid.
    function invariant_membersMatchGhostWithDistinctKeys() public view {
        (, uint8 k, IReleaseCommittee.Member[] memory members) = committee.committee();
        assertEq(k, committee.threshold());
        assertEq(members.length, handler.ghostSize());
        for (uint256 i = 0; i < members.length; i++) {
            assertTrue(handler.ghostMember(members[i].account));
            assertTrue(committee.isMember(members[i].account));
            assertTrue(X25519Key.isValid(members[i].encryptionKey));
            for (uint256 j = i + 1; j < members.length; j++) {
                assertTrue(members[i].encryptionKey != members[j].encryptionKey);
                assertTrue(members[i].account != members[j].account);
            }
        }
    }
}
