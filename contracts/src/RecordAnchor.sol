// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IRecordAnchor} from "./interfaces/IRecordAnchor.sol";

/// @title RecordAnchor
/// @notice Stores Merkle roots of batches of record leaves; one storage slot per batch, so the gas
///         per anchored record falls as batches grow. The manifest digest only goes in the event.
contract RecordAnchor is IRecordAnchor {
    struct Anchor {
        uint64 batchId;
        uint64 timestamp;
    }

    mapping(bytes32 root => Anchor) private _anchors;
    uint64 private _batchCount;

    /// @inheritdoc IRecordAnchor
    function anchor(bytes32 root, uint32 leafCount, bytes32 manifest) external returns (uint256 batchId) {
        if (root == bytes32(0)) revert RecordAnchor__ZeroRoot();
        if (leafCount == 0) revert RecordAnchor__EmptyBatch();
        if (manifest == bytes32(0)) revert RecordAnchor__ZeroManifest();
        uint64 existing = _anchors[root].batchId;
        if (existing != 0) revert RecordAnchor__AlreadyAnchored(root, existing);
        uint64 id;
        // Cannot overflow: 2^64 batches would take longer than the chain will exist.
        unchecked {
            id = ++_batchCount;
        }
        _anchors[root] = Anchor({batchId: id, timestamp: uint64(block.timestamp)});
        emit BatchAnchored(id, root, msg.sender, leafCount, manifest);
        return id;
    }

    /// @inheritdoc IRecordAnchor
    function anchoredAt(bytes32 root) external view returns (uint256 batchId, uint64 timestamp) {
        Anchor memory a = _anchors[root];
        return (a.batchId, a.timestamp);
    }

    /// @inheritdoc IRecordAnchor
    function verifyRecord(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        return _anchors[root].batchId != 0 && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @inheritdoc IRecordAnchor
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }
}
