// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IRecordAnchor
/// @notice Anchors Merkle roots of batches of record leaves, so anyone can prove offline that a
///         record version (patient, recordId, version, category, ciphertext CID, supersedes) existed
///         unaltered at anchoring time. Only roots go on chain: never a record, never health data.
/// @dev Leaves follow OpenZeppelin's StandardMerkleTree: leaf = keccak256(bytes.concat(keccak256(abi.encode(...)))),
///      so proofs from the OpenZeppelin merkle-tree library verify with MerkleProof.
///      Each batch also names its manifest: the sha2-256 digest of a content-addressed blob listing the
///      batch's leaf hashes with their record ids and versions (ids and hashes only; see
///      docs/decisions/010-anchor-manifests.md). Its CID (CIDv1, raw, sha2-256) is rebuilt from the digest,
///      so indexers can fetch it; the contract does not read or check it.
interface IRecordAnchor {
    /// @notice A batch root was anchored.
    /// @param batchId Sequential id of the batch, from 1.
    /// @param root Merkle root of the batch's leaves.
    /// @param submitter Who anchored it (the patient's client or an anchorer worker).
    /// @param leafCount Number of leaves in the batch.
    /// @param manifest sha2-256 digest of the batch manifest blob (its CIDv1 raw sha2-256 is rebuilt from it).
    event BatchAnchored(
        uint256 indexed batchId, bytes32 indexed root, address indexed submitter, uint32 leafCount, bytes32 manifest
    );

    /// @notice The root is zero.
    error RecordAnchor__ZeroRoot();
    /// @notice The batch has no leaves.
    error RecordAnchor__EmptyBatch();
    /// @notice The manifest digest is zero.
    error RecordAnchor__ZeroManifest();
    /// @notice The root was anchored before (by batch `batchId`).
    error RecordAnchor__AlreadyAnchored(bytes32 root, uint256 batchId);

    /// @notice Anchor the root of a batch of `leafCount` leaves, naming the batch's manifest blob.
    /// @param root Merkle root of the batch's leaves; never anchored before.
    /// @param leafCount Number of leaves in the batch, at least 1.
    /// @param manifest sha2-256 digest of the batch manifest blob, not zero. Only emitted, never stored.
    /// @return batchId The new batch's id.
    function anchor(bytes32 root, uint32 leafCount, bytes32 manifest) external returns (uint256 batchId);

    /// @notice When `root` was anchored: its batch id and block timestamp (0, 0 if never).
    function anchoredAt(bytes32 root) external view returns (uint256 batchId, uint64 timestamp);

    /// @notice Whether `leaf` (already double-hashed) is in the batch with anchored `root`, by `proof`.
    /// @return True only if `root` is anchored and the proof holds.
    function verifyRecord(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);

    /// @notice Number of batches anchored so far.
    function batchCount() external view returns (uint256);
}
