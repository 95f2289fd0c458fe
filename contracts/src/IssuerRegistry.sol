// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {InternalLeanIMT, LeanIMTData} from "@zk-kit/lean-imt.sol/InternalLeanIMT.sol";
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";
import {BabyJubjub} from "./libraries/BabyJubjub.sol";

/// @title IssuerRegistry
/// @notice The accredited issuers' keys as an on-chain LeanIMT, with a short history of roots.
contract IssuerRegistry is IIssuerRegistry, AccessControl {
    using InternalLeanIMT for LeanIMTData;

    /// @inheritdoc IIssuerRegistry
    bytes32 public constant ISSUER_ACCREDITOR_ROLE = keccak256("ISSUER_ACCREDITOR_ROLE");
    /// @inheritdoc IIssuerRegistry
    uint256 public constant MAX_ISSUER_DEPTH = 8;
    /// @inheritdoc IIssuerRegistry
    uint256 public constant ROOT_VALIDITY = 1 hours;

    uint256 private constant MAX_LEAVES = 2 ** MAX_ISSUER_DEPTH;

    LeanIMTData private _tree;
    /// @dev Only roots that were current once are ever written here, so a root nobody made is never known.
    mapping(uint256 root => uint256 timestamp) private _supersededAt;

    /// @param admin Holds DEFAULT_ADMIN_ROLE (grants and revokes issuer accreditors); not zero.
    /// @param accreditor Gets ISSUER_ACCREDITOR_ROLE at once, or nobody if zero.
    constructor(address admin, address accreditor) {
        if (admin == address(0)) revert IssuerRegistry__ZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (accreditor != address(0)) _grantRole(ISSUER_ACCREDITOR_ROLE, accreditor);
    }

    /// @inheritdoc IIssuerRegistry
    function addIssuer(uint256 ax, uint256 ay)
        external
        onlyRole(ISSUER_ACCREDITOR_ROLE)
        returns (uint256 index, uint256 newRoot)
    {
        // Out-of-field coordinates would hash like their reduction: one key under two names.
        if (ax >= BabyJubjub.FIELD) revert IssuerRegistry__CoordinateOutOfField(ax);
        if (ay >= BabyJubjub.FIELD) revert IssuerRegistry__CoordinateOutOfField(ay);
        if (!BabyJubjub.isOnCurve(ax, ay)) revert IssuerRegistry__NotOnCurve(ax, ay);
        uint256 leaf = PoseidonT3.hash([ax, ay]);
        // Poseidon is not expected to ever give 0, but 0 means "removed" in the tree.
        if (leaf == 0) revert IssuerRegistry__ZeroLeaf();
        if (_tree._has(leaf)) revert IssuerRegistry__IssuerExists(leaf);
        index = _tree.size;
        // Removed leaves keep their slot, so the bound is on the size, not on the live issuers.
        if (index >= MAX_LEAVES) revert IssuerRegistry__TreeFull(MAX_LEAVES);
        uint256 previous = _tree._root();
        newRoot = _tree._insert(leaf);
        _supersede(previous);
        emit IssuerAdded(index, ax, ay, leaf, newRoot);
    }

    /// @inheritdoc IIssuerRegistry
    function removeIssuer(uint256 leaf, uint256[] calldata siblings)
        external
        onlyRole(ISSUER_ACCREDITOR_ROLE)
        returns (uint256 newRoot)
    {
        if (leaf == 0) revert IssuerRegistry__ZeroLeaf();
        if (!_tree._has(leaf)) revert IssuerRegistry__UnknownIssuer(leaf);
        uint256 index = _tree._indexOf(leaf);
        uint256 previous = _tree._root();
        // Checked here first so a bad path is our own error, not the library's bare revert or an
        // out-of-bounds panic when too few siblings are given.
        (bool ok, uint256 pathRoot) = _pathRoot(index, leaf, siblings);
        if (!ok || pathRoot != previous) revert IssuerRegistry__WrongSiblings(leaf);
        newRoot = _tree._remove(leaf, siblings);
        _supersede(previous);
        emit IssuerRemoved(index, leaf, newRoot);
    }

    /// @inheritdoc IIssuerRegistry
    function isKnownRoot(uint256 candidate) external view returns (bool) {
        if (candidate == 0) return false;
        if (candidate == _tree._root()) return true;
        uint256 at = _supersededAt[candidate];
        return at != 0 && block.timestamp < at + ROOT_VALIDITY;
    }

    /// @inheritdoc IIssuerRegistry
    function root() external view returns (uint256) {
        return _tree._root();
    }

    /// @inheritdoc IIssuerRegistry
    function supersededAt(uint256 candidate) external view returns (uint256) {
        return _supersededAt[candidate];
    }

    /// @inheritdoc IIssuerRegistry
    function size() external view returns (uint256) {
        return _tree.size;
    }

    /// @inheritdoc IIssuerRegistry
    function depth() external view returns (uint256) {
        return _tree.depth;
    }

    /// @inheritdoc IIssuerRegistry
    function isIssuer(uint256 leaf) external view returns (bool) {
        return leaf != 0 && _tree._has(leaf);
    }

    /// @inheritdoc IIssuerRegistry
    function indexOf(uint256 leaf) external view returns (uint256) {
        if (leaf == 0 || !_tree._has(leaf)) revert IssuerRegistry__UnknownIssuer(leaf);
        return _tree._indexOf(leaf);
    }

    /// @inheritdoc IIssuerRegistry
    function leafOf(uint256 ax, uint256 ay) external pure returns (uint256) {
        return PoseidonT3.hash([ax, ay]);
    }

    function _supersede(uint256 previous) private {
        // The empty tree's root (0) is never a valid root, so it is not recorded.
        if (previous != 0) _supersededAt[previous] = block.timestamp;
    }

    /// @dev The root that `siblings` prove `leaf` at `index` against, walking the tree the way
    ///      InternalLeanIMT._update does: a node has a sibling at a level unless it is a left node
    ///      and the last one of that level. False if the siblings are too few, too many or out of field.
    function _pathRoot(uint256 index, uint256 leaf, uint256[] calldata siblings)
        private
        view
        returns (bool ok, uint256 node)
    {
        uint256 lastIndex = _tree.size - 1;
        uint256 treeDepth = _tree.depth;
        uint256 used;
        node = leaf;
        for (uint256 level; level < treeDepth; ++level) {
            bool isRight = (index >> level) & 1 == 1;
            if (!isRight && index >> level == lastIndex >> level) continue;
            if (used == siblings.length) return (false, 0);
            uint256 sibling = siblings[used];
            // Cannot overflow: bounded by siblings.length.
            unchecked {
                ++used;
            }
            if (sibling >= BabyJubjub.FIELD) return (false, 0);
            node = isRight ? PoseidonT3.hash([sibling, node]) : PoseidonT3.hash([node, sibling]);
        }
        ok = used == siblings.length;
    }
}
