// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IReleaseCommittee
/// @notice The release committee: n independent gateway operators, each with an X25519 public key
///         to which clients seal one Shamir share of every record's data key, and a threshold k
///         (1 <= k <= n) of shares that rebuild it. Members release shares only to live grantees
///         and post the roots of their access-log batches here.
///
///         Every membership, key or threshold change increments the epoch: shares split for an
///         earlier epoch may be held by former members or sealed to old keys, so clients re-share
///         data keys when the epoch they split for is no longer the current one.
/// @dev Managed by an owner (Ownable2Step; a multisig in production). An empty committee has
///      threshold 0; otherwise 1 <= threshold <= size always holds. No two members share a key, so
///      no one holds two shares under two addresses. At most MAX_MEMBERS members.
interface IReleaseCommittee {
    /// @notice One member: its address and X25519 public key (RFC 7748 little-endian u-coordinate).
    struct Member {
        address account;
        bytes32 encryptionKey;
    }

    /// @notice A member joined.
    /// @param member Its address.
    /// @param encryptionKey Its X25519 public key.
    /// @param epoch The epoch this change started.
    event MemberAdded(address indexed member, bytes32 encryptionKey, uint64 indexed epoch);

    /// @notice A member left.
    /// @param member Its address.
    /// @param epoch The epoch this change started.
    event MemberRemoved(address indexed member, uint64 indexed epoch);

    /// @notice A member replaced its key.
    /// @param member Its address.
    /// @param previousKey The key replaced.
    /// @param newKey The key now in force.
    /// @param epoch The epoch this change started.
    event MemberKeyRotated(address indexed member, bytes32 previousKey, bytes32 newKey, uint64 indexed epoch);

    /// @notice The committee after any change: clients re-share for this epoch.
    /// @param epoch The new epoch.
    /// @param size Number of members, n.
    /// @param threshold Shares needed, k.
    event EpochStarted(uint64 indexed epoch, uint8 size, uint8 threshold);

    /// @notice A member posted the Merkle root of a batch of its access-log entries.
    /// @param member The member.
    /// @param root The batch root.
    /// @param count Number of entries in the batch.
    /// @param epoch The epoch at posting.
    event LogRootPosted(address indexed member, bytes32 indexed root, uint32 count, uint64 indexed epoch);

    /// @notice The address is zero.
    error ReleaseCommittee__ZeroAddress();
    /// @notice The address is already a member.
    error ReleaseCommittee__AlreadyMember(address member);
    /// @notice The address is not a member.
    error ReleaseCommittee__NotMember(address account);
    /// @notice The key is not a usable X25519 public key (zero, non-canonical or low order).
    error ReleaseCommittee__InvalidKey(bytes32 key);
    /// @notice Another member already has this key (or a rotation would not change it).
    error ReleaseCommittee__KeyInUse(bytes32 key);
    /// @notice The committee would have more than `max` members.
    error ReleaseCommittee__TooManyMembers(uint8 max);
    /// @notice The threshold is not within 1..size (or not 0 for an empty committee).
    error ReleaseCommittee__InvalidThreshold(uint8 threshold, uint8 size);
    /// @notice The threshold is already this value.
    error ReleaseCommittee__ThresholdUnchanged(uint8 threshold);
    /// @notice The log root is zero.
    error ReleaseCommittee__ZeroRoot();
    /// @notice The log batch has no entries.
    error ReleaseCommittee__EmptyLog();
    /// @notice This member already posted this root.
    error ReleaseCommittee__RootAlreadyPosted(address member, bytes32 root);

    /// @notice Add `member` with `encryptionKey` and set the threshold to `newThreshold`. Owner only.
    /// @param member Not zero and not a member.
    /// @param encryptionKey A valid X25519 public key no member has.
    /// @param newThreshold The threshold for the grown committee, 1..size.
    function addMember(address member, bytes32 encryptionKey, uint8 newThreshold) external;

    /// @notice Remove `member` and set the threshold to `newThreshold`. Owner only.
    /// @param member A member.
    /// @param newThreshold The threshold for the shrunk committee: 1..size, or 0 if it is now empty.
    function removeMember(address member, uint8 newThreshold) external;

    /// @notice Change the threshold alone. Owner only.
    /// @param newThreshold 1..size, different from the current one.
    function setThreshold(uint8 newThreshold) external;

    /// @notice Replace the caller's (a member's) encryption key.
    /// @param newKey A valid X25519 public key no member has.
    function rotateKey(bytes32 newKey) external;

    /// @notice Post the Merkle root of a batch of the caller's (a member's) access-log entries.
    /// @param root The batch root, not zero, not posted by the caller before.
    /// @param count Number of entries in the batch, at least 1.
    function postLogRoot(bytes32 root, uint32 count) external;

    /// @notice The current committee: epoch, threshold and members (in no particular order).
    function committee() external view returns (uint64 epoch, uint8 threshold, Member[] memory members);

    /// @notice The current epoch (0 before the first change).
    function epoch() external view returns (uint64);

    /// @notice Shares needed to rebuild a data key, k.
    function threshold() external view returns (uint8);

    /// @notice Number of members, n.
    function size() external view returns (uint8);

    /// @notice Whether `account` is a member now.
    function isMember(address account) external view returns (bool);

    /// @notice The encryption key of `member`; reverts if it is not a member.
    function encryptionKeyOf(address member) external view returns (bytes32);

    /// @notice Whether `member` posted `root` (while a member; it may have left since).
    function wasPostedBy(bytes32 root, address member) external view returns (bool);

    /// @notice When `member` posted `root`: the epoch and block timestamp (0, 0 if never).
    function logRootOf(address member, bytes32 root) external view returns (uint64 epoch, uint64 postedAt);

    /// @notice The largest committee allowed.
    function MAX_MEMBERS() external view returns (uint8);
}
