// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {RecordAnchor} from "../src/RecordAnchor.sol";
import {IRecordAnchor} from "../src/interfaces/IRecordAnchor.sol";

contract RecordAnchorTest is Test {
    RecordAnchor internal anchorContract;

    /// @dev A stand-in manifest digest (the sdk uses sha256 of the manifest blob). A literal, not
    ///      sha256(...): that is a precompile call, which vm.expectRevert would take for the call under test.
    bytes32 internal constant MANIFEST = 0x5a0f8e7ae5b5f8ad54a7a9a8f0e7c4cf1ab7f5dbb1d0a2c5b4a1f0e9d8c7b6a5;

    function setUp() public {
        anchorContract = new RecordAnchor();
    }

    /// @dev A leaf as the sdk builds it (StandardMerkleTree: double keccak of the ABI encoding).
    function _leaf(address patient, bytes32 recordId, uint32 version, uint8 category, bytes32 cidDigest, bytes32 supersedes)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(patient, recordId, version, category, cidDigest, supersedes))));
    }

    /// @dev A 4-leaf tree with sorted-pair hashing, as OpenZeppelin's MerkleProof expects.
    function _tree(bytes32[4] memory l) internal pure returns (bytes32 root, bytes32[][4] memory proofs) {
        bytes32 left = Hashes.commutativeKeccak256(l[0], l[1]);
        bytes32 right = Hashes.commutativeKeccak256(l[2], l[3]);
        root = Hashes.commutativeKeccak256(left, right);
        for (uint256 i = 0; i < 4; i++) {
            proofs[i] = new bytes32[](2);
            proofs[i][0] = l[i ^ 1];
            proofs[i][1] = i < 2 ? right : left;
        }
    }

    function _leaves(bytes32 seed) internal pure returns (bytes32[4] memory l) {
        for (uint256 i = 0; i < 4; i++) {
            l[i] = _leaf(
                address(uint160(uint256(keccak256(abi.encode(seed, i))))),
                keccak256(abi.encode(seed, "record", i)),
                uint32(i + 1),
                uint8(i % 13),
                sha256(abi.encode(seed, i)),
                bytes32(0)
            );
        }
    }

    function test_anchor_storesAndEmits() public {
        vm.warp(1_750_000_000);
        bytes32 root = keccak256("root");
        vm.expectEmit(true, true, true, true, address(anchorContract));
        emit IRecordAnchor.BatchAnchored(1, root, address(this), 64, MANIFEST);
        uint256 id = anchorContract.anchor(root, 64, MANIFEST);
        assertEq(id, 1);
        (uint256 batchId, uint64 ts) = anchorContract.anchoredAt(root);
        assertEq(batchId, 1);
        assertEq(ts, 1_750_000_000);
        assertEq(anchorContract.batchCount(), 1);
        assertEq(anchorContract.anchor(keccak256("root 2"), 1, MANIFEST), 2);
    }

    function test_anchor_zeroRoot_reverts() public {
        vm.expectRevert(IRecordAnchor.RecordAnchor__ZeroRoot.selector);
        anchorContract.anchor(bytes32(0), 1, MANIFEST);
    }

    function test_anchor_emptyBatch_reverts() public {
        vm.expectRevert(IRecordAnchor.RecordAnchor__EmptyBatch.selector);
        anchorContract.anchor(keccak256("root"), 0, MANIFEST);
    }

    function test_anchor_duplicate_reverts() public {
        bytes32 root = keccak256("root");
        anchorContract.anchor(root, 3, MANIFEST);
        vm.expectRevert(abi.encodeWithSelector(IRecordAnchor.RecordAnchor__AlreadyAnchored.selector, root, 1));
        anchorContract.anchor(root, 3, MANIFEST);
        assertEq(anchorContract.batchCount(), 1);
    }

    function test_anchor_zeroManifest_reverts() public {
        vm.expectRevert(IRecordAnchor.RecordAnchor__ZeroManifest.selector);
        anchorContract.anchor(keccak256("root"), 1, bytes32(0));
        assertEq(anchorContract.batchCount(), 0);
    }

    function testFuzz_anchor_emitsTheManifestAsGiven(bytes32 root, uint32 leafCount, bytes32 manifest) public {
        vm.assume(root != bytes32(0) && leafCount != 0 && manifest != bytes32(0));
        vm.expectEmit(true, true, true, true, address(anchorContract));
        emit IRecordAnchor.BatchAnchored(1, root, address(this), leafCount, manifest);
        anchorContract.anchor(root, leafCount, manifest);
        // The manifest is not stored: the anchor is the same whatever its digest.
        (uint256 batchId,) = anchorContract.anchoredAt(root);
        assertEq(batchId, 1);
    }

    function test_anchoredAt_unknown_isZero() public view {
        (uint256 batchId, uint64 ts) = anchorContract.anchoredAt(keccak256("never"));
        assertEq(batchId, 0);
        assertEq(ts, 0);
    }

    function test_anchor_gasIsConstantInBatchSize() public {
        uint256 g1 = gasleft();
        anchorContract.anchor(keccak256("a"), 1, MANIFEST);
        uint256 small = g1 - gasleft();
        uint256 g2 = gasleft();
        anchorContract.anchor(keccak256("b"), 1024, MANIFEST);
        uint256 large = g2 - gasleft();
        // The second write to the counter is cheaper (warm, non-zero); never more than the first.
        assertLe(large, small);
    }

    function testFuzz_verifyRecord_acceptsExactlyTheBatchLeaves(bytes32 seed, bytes32 stranger) public {
        bytes32[4] memory l = _leaves(seed);
        (bytes32 root, bytes32[][4] memory proofs) = _tree(l);
        // Not anchored yet: nothing verifies.
        assertFalse(anchorContract.verifyRecord(root, l[0], proofs[0]));
        anchorContract.anchor(root, 4, keccak256(abi.encode(root)));
        for (uint256 i = 0; i < 4; i++) {
            assertTrue(anchorContract.verifyRecord(root, l[i], proofs[i]));
            // A proof for another leaf does not fit.
            assertFalse(anchorContract.verifyRecord(root, l[i], proofs[(i + 1) % 4]));
        }
        vm.assume(stranger != l[0] && stranger != l[1] && stranger != l[2] && stranger != l[3]);
        assertFalse(anchorContract.verifyRecord(root, stranger, proofs[0]));
    }

    function testFuzz_anchor_idsAreSequential(uint8 n) public {
        n = uint8(bound(n, 1, 50));
        for (uint256 i = 1; i <= n; i++) {
            assertEq(anchorContract.anchor(keccak256(abi.encode(i)), uint32(i), MANIFEST), i);
        }
        assertEq(anchorContract.batchCount(), n);
    }
}
