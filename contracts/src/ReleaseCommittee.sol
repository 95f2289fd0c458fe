// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IReleaseCommittee} from "./interfaces/IReleaseCommittee.sol";
import {X25519Key} from "./libraries/X25519Key.sol";

/// @title ReleaseCommittee
/// @notice Committee membership with X25519 keys, a k-of-n threshold, an epoch that counts changes,
///         and the access-log roots members post.
contract ReleaseCommittee is IReleaseCommittee, Ownable2Step {
    /// @inheritdoc IReleaseCommittee
    uint8 public constant MAX_MEMBERS = 32;

    struct Seat {
        bytes32 encryptionKey;
        /// @dev Position in _members plus one; 0 means not a member.
        uint8 slot;
    }

    struct LogRoot {
        uint64 epoch;
        uint64 postedAt;
    }

    address[] private _members;
    mapping(address member => Seat) private _seats;
    mapping(bytes32 key => bool) private _keyInUse;
    mapping(address member => mapping(bytes32 root => LogRoot)) private _logRoots;
    uint64 private _epoch;
    uint8 private _threshold;

    /// @param initialOwner Manages membership and threshold.
    constructor(address initialOwner) Ownable(initialOwner) {}

    // ------------------------------------------------------------------ membership

    /// @inheritdoc IReleaseCommittee
    function addMember(address member, bytes32 encryptionKey, uint8 newThreshold) external onlyOwner {
        if (member == address(0)) revert ReleaseCommittee__ZeroAddress();
        if (_seats[member].slot != 0) revert ReleaseCommittee__AlreadyMember(member);
        if (_members.length >= MAX_MEMBERS) revert ReleaseCommittee__TooManyMembers(MAX_MEMBERS);
        _checkKey(encryptionKey);
        _members.push(member);
        // Cannot truncate: the length is at most MAX_MEMBERS (32).
        _seats[member] = Seat({encryptionKey: encryptionKey, slot: uint8(_members.length)});
        _keyInUse[encryptionKey] = true;
        uint64 newEpoch = _nextEpoch();
        emit MemberAdded(member, encryptionKey, newEpoch);
        _setThreshold(newThreshold, newEpoch);
    }

    /// @inheritdoc IReleaseCommittee
    function removeMember(address member, uint8 newThreshold) external onlyOwner {
        Seat memory seat = _seats[member];
        if (seat.slot == 0) revert ReleaseCommittee__NotMember(member);
        uint256 last = _members.length - 1;
        uint256 index = seat.slot - 1;
        if (index != last) {
            address moved = _members[last];
            _members[index] = moved;
            _seats[moved].slot = seat.slot;
        }
        _members.pop();
        delete _seats[member];
        delete _keyInUse[seat.encryptionKey];
        uint64 newEpoch = _nextEpoch();
        emit MemberRemoved(member, newEpoch);
        _setThreshold(newThreshold, newEpoch);
    }

    /// @inheritdoc IReleaseCommittee
    function setThreshold(uint8 newThreshold) external onlyOwner {
        if (newThreshold == _threshold) revert ReleaseCommittee__ThresholdUnchanged(newThreshold);
        _setThreshold(newThreshold, _nextEpoch());
    }

    /// @inheritdoc IReleaseCommittee
    function rotateKey(bytes32 newKey) external {
        Seat storage seat = _seats[msg.sender];
        if (seat.slot == 0) revert ReleaseCommittee__NotMember(msg.sender);
        _checkKey(newKey);
        bytes32 previousKey = seat.encryptionKey;
        seat.encryptionKey = newKey;
        delete _keyInUse[previousKey];
        _keyInUse[newKey] = true;
        uint64 newEpoch = _nextEpoch();
        emit MemberKeyRotated(msg.sender, previousKey, newKey, newEpoch);
        emit EpochStarted(newEpoch, uint8(_members.length), _threshold);
    }

    // ------------------------------------------------------------------ access logs

    /// @inheritdoc IReleaseCommittee
    function postLogRoot(bytes32 root, uint32 count) external {
        if (_seats[msg.sender].slot == 0) revert ReleaseCommittee__NotMember(msg.sender);
        if (root == bytes32(0)) revert ReleaseCommittee__ZeroRoot();
        if (count == 0) revert ReleaseCommittee__EmptyLog();
        LogRoot storage entry = _logRoots[msg.sender][root];
        if (entry.postedAt != 0) revert ReleaseCommittee__RootAlreadyPosted(msg.sender, root);
        uint64 current = _epoch;
        entry.epoch = current;
        entry.postedAt = uint64(block.timestamp);
        emit LogRootPosted(msg.sender, root, count, current);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IReleaseCommittee
    function committee() external view returns (uint64, uint8, Member[] memory members) {
        uint256 n = _members.length;
        members = new Member[](n);
        for (uint256 i = 0; i < n; ++i) {
            address account = _members[i];
            members[i] = Member({account: account, encryptionKey: _seats[account].encryptionKey});
        }
        return (_epoch, _threshold, members);
    }

    /// @inheritdoc IReleaseCommittee
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @inheritdoc IReleaseCommittee
    function threshold() external view returns (uint8) {
        return _threshold;
    }

    /// @inheritdoc IReleaseCommittee
    function size() external view returns (uint8) {
        // Cannot truncate: the length is at most MAX_MEMBERS (32).
        return uint8(_members.length);
    }

    /// @inheritdoc IReleaseCommittee
    function isMember(address account) external view returns (bool) {
        return _seats[account].slot != 0;
    }

    /// @inheritdoc IReleaseCommittee
    function encryptionKeyOf(address member) external view returns (bytes32) {
        Seat storage seat = _seats[member];
        if (seat.slot == 0) revert ReleaseCommittee__NotMember(member);
        return seat.encryptionKey;
    }

    /// @inheritdoc IReleaseCommittee
    function wasPostedBy(bytes32 root, address member) external view returns (bool) {
        return _logRoots[member][root].postedAt != 0;
    }

    /// @inheritdoc IReleaseCommittee
    function logRootOf(address member, bytes32 root) external view returns (uint64, uint64) {
        LogRoot memory entry = _logRoots[member][root];
        return (entry.epoch, entry.postedAt);
    }

    // ------------------------------------------------------------------ internals

    function _checkKey(bytes32 key) private view {
        if (!X25519Key.isValid(key)) revert ReleaseCommittee__InvalidKey(key);
        if (_keyInUse[key]) revert ReleaseCommittee__KeyInUse(key);
    }

    function _nextEpoch() private returns (uint64 newEpoch) {
        // Cannot overflow: one increment per owner or member transaction; 2^64 is out of reach.
        unchecked {
            newEpoch = ++_epoch;
        }
    }

    /// @dev Sets the threshold after a change of epoch `newEpoch` and announces the epoch.
    function _setThreshold(uint8 newThreshold, uint64 newEpoch) private {
        // Cannot truncate: the length is at most MAX_MEMBERS (32).
        uint8 n = uint8(_members.length);
        bool valid = n == 0 ? newThreshold == 0 : newThreshold >= 1 && newThreshold <= n;
        if (!valid) revert ReleaseCommittee__InvalidThreshold(newThreshold, n);
        _threshold = newThreshold;
        emit EpochStarted(newEpoch, n, newThreshold);
    }
}
