// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";
import {IssuerRegistry} from "../src/IssuerRegistry.sol";
import {IIssuerRegistry} from "../src/interfaces/IIssuerRegistry.sol";
import {BabyJubjub} from "../src/libraries/BabyJubjub.sol";

/// @notice Baby Jubjub points for tests: multiples of circomlib's Base8 by twisted Edwards addition,
///         so every key used here is a real curve point without hard-coding hundreds of them.
library TestPoints {
    uint256 internal constant F = BabyJubjub.FIELD;
    uint256 internal constant BASE8_X = 5299619240641551281634865583518297030282874472190772894086521144482721001553;
    uint256 internal constant BASE8_Y = 16950150798460657717958625567821834550301663161624707787222815936182638968203;

    function add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) internal view returns (uint256 x3, uint256 y3) {
        uint256 t = mulmod(BabyJubjub.D, mulmod(mulmod(x1, x2, F), mulmod(y1, y2, F), F), F);
        x3 = mulmod(addmod(mulmod(x1, y2, F), mulmod(y1, x2, F), F), inverse(addmod(1, t, F)), F);
        y3 = mulmod(
            addmod(mulmod(y1, y2, F), F - mulmod(BabyJubjub.A, mulmod(x1, x2, F), F), F),
            inverse(addmod(1, F - t, F)),
            F
        );
    }

    /// @dev Fermat inverse through the modexp precompile.
    function inverse(uint256 v) internal view returns (uint256 r) {
        (bool ok, bytes memory out) = address(5).staticcall(abi.encode(32, 32, 32, v, F - 2, F));
        require(ok, "modexp");
        r = abi.decode(out, (uint256));
    }

    /// @dev The first `n` multiples of Base8: 1·B, 2·B, ... (all distinct: B has a large prime order).
    function multiples(uint256 n) internal view returns (uint256[2][] memory pts) {
        pts = new uint256[2][](n);
        (uint256 x, uint256 y) = (BASE8_X, BASE8_Y);
        for (uint256 i; i < n; ++i) {
            pts[i] = [x, y];
            (x, y) = add(x, y, BASE8_X, BASE8_Y);
        }
    }
}

/// @notice A LeanIMT computed from scratch, level by level (a node without a right sibling is
///         carried up unchanged): the reference the on-chain tree is compared with.
library ReferenceLeanIMT {
    function root(uint256[] memory leaves) internal pure returns (uint256) {
        if (leaves.length == 0) return 0;
        uint256[] memory level = leaves;
        while (level.length > 1) level = _up(level);
        return level[0];
    }

    /// @dev The siblings of leaf `index`, bottom-up, only where it has one (zk-kit generateProof order).
    function siblings(uint256[] memory leaves, uint256 index) internal pure returns (uint256[] memory out) {
        uint256[] memory buffer = new uint256[](32);
        uint256 count;
        uint256[] memory level = leaves;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < level.length) buffer[count++] = level[sibling];
            level = _up(level);
            index >>= 1;
        }
        out = new uint256[](count);
        for (uint256 i; i < count; ++i) out[i] = buffer[i];
    }

    function _up(uint256[] memory level) private pure returns (uint256[] memory next) {
        next = new uint256[]((level.length + 1) / 2);
        for (uint256 i; i < next.length; ++i) {
            next[i] = 2 * i + 1 < level.length ? PoseidonT3.hash([level[2 * i], level[2 * i + 1]]) : level[2 * i];
        }
    }
}

contract IssuerRegistryTest is Test {
    IssuerRegistry internal registry;

    address internal constant ADMIN = address(0xAD);
    address internal constant ACCREDITOR = address(0xACC);
    address internal constant STRANGER = address(0x5714);
    uint256 internal constant F = BabyJubjub.FIELD;
    uint256 internal constant T0 = 1_767_225_600;

    uint256[2][] internal pts;

    function setUp() public {
        vm.warp(T0);
        registry = new IssuerRegistry(ADMIN, ACCREDITOR);
        pts = TestPoints.multiples(4);
    }

    function _add(uint256 i) internal returns (uint256 leaf, uint256 root) {
        vm.prank(ACCREDITOR);
        (, root) = registry.addIssuer(pts[i][0], pts[i][1]);
        leaf = PoseidonT3.hash(pts[i]);
    }

    function _leaves(uint256 n) internal view returns (uint256[] memory leaves) {
        leaves = new uint256[](n);
        for (uint256 i; i < n; ++i) leaves[i] = PoseidonT3.hash(pts[i]);
    }

    function _remove(uint256[] memory leaves, uint256 index) internal returns (uint256 root) {
        uint256[] memory siblings = ReferenceLeanIMT.siblings(leaves, index);
        vm.prank(ACCREDITOR);
        root = registry.removeIssuer(leaves[index], siblings);
    }

    // ---------------------------------------------------------------- test helpers are right

    function test_testPoints_matchJsBabyJubjub() public view {
        // 2·Base8 as @zk-kit/baby-jubjub's addPoint(Base8, Base8) gives it.
        (uint256 x, uint256 y) =
            TestPoints.add(TestPoints.BASE8_X, TestPoints.BASE8_Y, TestPoints.BASE8_X, TestPoints.BASE8_Y);
        assertEq(x, 10031262171927540148667355526369034398030886437092045105752248699557385197826);
        assertEq(y, 633281375905621697187330766174974863687049529291089048651929454608812697683);
        assertTrue(BabyJubjub.isOnCurve(x, y));
    }

    // ---------------------------------------------------------------- constructor and roles

    function test_constructor_grantsRoles() public view {
        assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), ADMIN));
        assertTrue(registry.hasRole(registry.ISSUER_ACCREDITOR_ROLE(), ACCREDITOR));
        assertFalse(registry.hasRole(registry.ISSUER_ACCREDITOR_ROLE(), ADMIN));
        assertEq(registry.MAX_ISSUER_DEPTH(), 8);
        assertEq(registry.ROOT_VALIDITY(), 1 hours);
    }

    function test_constructor_zeroAdmin_reverts() public {
        vm.expectRevert(IIssuerRegistry.IssuerRegistry__ZeroAdmin.selector);
        new IssuerRegistry(address(0), ACCREDITOR);
    }

    function test_constructor_noAccreditor() public {
        IssuerRegistry r = new IssuerRegistry(ADMIN, address(0));
        assertFalse(r.hasRole(r.ISSUER_ACCREDITOR_ROLE(), address(0)));
    }

    function test_emptyTree() public view {
        assertEq(registry.root(), 0);
        assertEq(registry.size(), 0);
        assertEq(registry.depth(), 0);
        assertFalse(registry.isKnownRoot(0));
    }

    // ---------------------------------------------------------------- addIssuer

    function test_addIssuer_first_rootIsTheLeaf() public {
        uint256 leaf = PoseidonT3.hash(pts[0]);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IIssuerRegistry.IssuerAdded(0, pts[0][0], pts[0][1], leaf, leaf);
        vm.prank(ACCREDITOR);
        (uint256 index, uint256 root) = registry.addIssuer(pts[0][0], pts[0][1]);
        assertEq(index, 0);
        assertEq(root, leaf);
        assertEq(registry.root(), leaf);
        assertEq(registry.size(), 1);
        assertEq(registry.depth(), 0);
        assertTrue(registry.isIssuer(leaf));
        assertEq(registry.indexOf(leaf), 0);
        assertEq(registry.leafOf(pts[0][0], pts[0][1]), leaf);
        assertTrue(registry.isKnownRoot(leaf));
    }

    function test_addIssuer_three_rootsFollowTheLeanIMT() public {
        (uint256 l0,) = _add(0);
        (uint256 l1, uint256 r1) = _add(1);
        assertEq(r1, PoseidonT3.hash([l0, l1]));
        assertEq(registry.depth(), 1);
        (uint256 l2, uint256 r2) = _add(2);
        // The third leaf has no right sibling: it is carried up, not hashed with zero.
        assertEq(r2, PoseidonT3.hash([PoseidonT3.hash([l0, l1]), l2]));
        assertEq(registry.depth(), 2);
        assertEq(registry.indexOf(l2), 2);
        assertEq(registry.supersededAt(r1), T0);
    }

    function test_addIssuer_notAccreditor_reverts() public {
        bytes32 role = registry.ISSUER_ACCREDITOR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, role)
        );
        vm.prank(STRANGER);
        registry.addIssuer(pts[0][0], pts[0][1]);
    }

    function test_addIssuer_duplicate_reverts() public {
        (uint256 leaf,) = _add(0);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__IssuerExists.selector, leaf));
        vm.prank(ACCREDITOR);
        registry.addIssuer(pts[0][0], pts[0][1]);
    }

    function test_addIssuer_outOfField_reverts() public {
        // The field alias of a real key: it would hash to the same leaf under another name.
        vm.startPrank(ACCREDITOR);
        vm.expectRevert(
            abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__CoordinateOutOfField.selector, pts[0][0] + F)
        );
        registry.addIssuer(pts[0][0] + F, pts[0][1]);
        vm.expectRevert(
            abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__CoordinateOutOfField.selector, pts[0][1] + F)
        );
        registry.addIssuer(pts[0][0], pts[0][1] + F);
        vm.stopPrank();
        assertEq(registry.size(), 0);
    }

    function test_addIssuer_notOnCurve_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__NotOnCurve.selector, pts[0][0], pts[0][1] + 1)
        );
        vm.prank(ACCREDITOR);
        registry.addIssuer(pts[0][0], pts[0][1] + 1);
    }

    function testFuzz_addIssuer_refusesAnythingButACurvePoint(uint256 ax, uint256 ay) public {
        vm.prank(ACCREDITOR);
        if (ax >= F) {
            vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__CoordinateOutOfField.selector, ax));
        } else if (ay >= F) {
            vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__CoordinateOutOfField.selector, ay));
        } else {
            vm.assume(!BabyJubjub.isOnCurve(ax, ay));
            vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__NotOnCurve.selector, ax, ay));
        }
        registry.addIssuer(ax, ay);
    }

    function testFuzz_addIssuer_fieldBoundary(uint256 excess) public {
        // Exactly at the modulus and anything above it is refused; FIELD - 1 is a field element.
        excess = bound(excess, 0, type(uint256).max - F);
        vm.startPrank(ACCREDITOR);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__CoordinateOutOfField.selector, F + excess));
        registry.addIssuer(F + excess, 1);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__NotOnCurve.selector, F - 1, F - 1));
        registry.addIssuer(F - 1, F - 1);
        vm.stopPrank();
    }

    function test_addIssuer_treeFullAt256() public {
        uint256[2][] memory many = TestPoints.multiples(257);
        vm.startPrank(ACCREDITOR);
        for (uint256 i; i < 256; ++i) {
            registry.addIssuer(many[i][0], many[i][1]);
        }
        assertEq(registry.size(), 256);
        assertEq(registry.depth(), 8);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__TreeFull.selector, 256));
        registry.addIssuer(many[256][0], many[256][1]);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- removeIssuer

    function test_removeIssuer_middle_setsLeafToZero() public {
        for (uint256 i; i < 3; ++i) _add(i);
        uint256[] memory leaves = _leaves(3);
        uint256 before = registry.root();
        uint256[] memory after_ = _leaves(3);
        after_[1] = 0;
        uint256 expected = ReferenceLeanIMT.root(after_);
        assertEq(expected, PoseidonT3.hash([PoseidonT3.hash([leaves[0], 0]), leaves[2]]));

        // Siblings first: the reference tree's hashing calls PoseidonT3, which expectEmit would take as "the next call".
        uint256[] memory siblings = ReferenceLeanIMT.siblings(leaves, 1);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IIssuerRegistry.IssuerRemoved(1, leaves[1], expected);
        vm.prank(ACCREDITOR);
        uint256 root = registry.removeIssuer(leaves[1], siblings);
        assertEq(root, expected);
        assertEq(registry.root(), expected);
        assertFalse(registry.isIssuer(leaves[1]));
        assertEq(registry.size(), 3);
        assertEq(registry.supersededAt(before), T0);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__UnknownIssuer.selector, leaves[1]));
        registry.indexOf(leaves[1]);
    }

    function test_removeIssuer_lastOfOddLevel() public {
        for (uint256 i; i < 3; ++i) _add(i);
        uint256[] memory leaves = _leaves(3);
        uint256 root = _remove(leaves, 2);
        assertEq(root, PoseidonT3.hash([PoseidonT3.hash([leaves[0], leaves[1]]), 0]));
    }

    function test_removeIssuer_onlyIssuer_leavesNoKnownCurrentRoot() public {
        (uint256 leaf,) = _add(0);
        uint256 root = _remove(_leaves(1), 0);
        assertEq(root, 0);
        assertFalse(registry.isKnownRoot(0));
        // The superseded root keeps verifying for the hour, like any other.
        assertTrue(registry.isKnownRoot(leaf));
    }

    function test_removeIssuer_thenAddAgain_newIndex() public {
        for (uint256 i; i < 3; ++i) _add(i);
        _remove(_leaves(3), 1);
        (uint256 l1, uint256 root) = _add(1);
        assertEq(registry.indexOf(l1), 3);
        uint256[] memory leaves = _leaves(3);
        uint256[] memory now_ = new uint256[](4);
        (now_[0], now_[1], now_[2], now_[3]) = (leaves[0], 0, leaves[2], l1);
        assertEq(root, ReferenceLeanIMT.root(now_));
    }

    function test_removeIssuer_unknownOrZero_reverts() public {
        _add(0);
        uint256 other = PoseidonT3.hash(pts[3]);
        vm.startPrank(ACCREDITOR);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__UnknownIssuer.selector, other));
        registry.removeIssuer(other, new uint256[](0));
        vm.expectRevert(IIssuerRegistry.IssuerRegistry__ZeroLeaf.selector);
        registry.removeIssuer(0, new uint256[](0));
        vm.stopPrank();
    }

    function test_removeIssuer_twice_reverts() public {
        for (uint256 i; i < 2; ++i) _add(i);
        uint256[] memory leaves = _leaves(2);
        uint256[] memory siblings = ReferenceLeanIMT.siblings(leaves, 0);
        _remove(leaves, 0);
        vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__UnknownIssuer.selector, leaves[0]));
        vm.prank(ACCREDITOR);
        registry.removeIssuer(leaves[0], siblings);
    }

    function test_removeIssuer_wrongSiblings_reverts() public {
        for (uint256 i; i < 3; ++i) _add(i);
        uint256[] memory leaves = _leaves(3);
        uint256[] memory good = ReferenceLeanIMT.siblings(leaves, 0);
        assertEq(good.length, 2);

        uint256[] memory tooFew = new uint256[](1);
        tooFew[0] = good[0];
        uint256[] memory tooMany = new uint256[](3);
        (tooMany[0], tooMany[1], tooMany[2]) = (good[0], good[1], 1);
        uint256[] memory altered = new uint256[](2);
        (altered[0], altered[1]) = (good[0], good[1] + 1);
        uint256[] memory aliased = new uint256[](2);
        (aliased[0], aliased[1]) = (good[0], good[1] + F);

        uint256[][4] memory bad = [tooFew, tooMany, altered, aliased];
        vm.startPrank(ACCREDITOR);
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IIssuerRegistry.IssuerRegistry__WrongSiblings.selector, leaves[0]));
            registry.removeIssuer(leaves[0], bad[i]);
        }
        vm.stopPrank();
        assertTrue(registry.isIssuer(leaves[0]));
    }

    function test_removeIssuer_notAccreditor_reverts() public {
        (uint256 leaf,) = _add(0);
        bytes32 role = registry.ISSUER_ACCREDITOR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, STRANGER, role)
        );
        vm.prank(STRANGER);
        registry.removeIssuer(leaf, new uint256[](0));
    }

    /// forge-config: default.fuzz.runs = 64
    function testFuzz_removeIssuer_matchesReferenceTree(uint8 count, uint256 seed) public {
        uint256 n = bound(count, 1, 24);
        uint256[2][] memory many = TestPoints.multiples(n);
        uint256[] memory leaves = new uint256[](n);
        vm.startPrank(ACCREDITOR);
        for (uint256 i; i < n; ++i) {
            registry.addIssuer(many[i][0], many[i][1]);
            leaves[i] = PoseidonT3.hash(many[i]);
        }
        vm.stopPrank();
        assertEq(registry.root(), ReferenceLeanIMT.root(leaves));
        // Remove up to three issuers, in an order drawn from the seed.
        for (uint256 k; k < 3 && k < n; ++k) {
            uint256 index = uint256(keccak256(abi.encode(seed, k))) % n;
            if (leaves[index] == 0) continue;
            _remove(leaves, index);
            leaves[index] = 0;
            assertEq(registry.root(), ReferenceLeanIMT.root(leaves));
        }
    }

    function test_removeIssuer_fullTree() public {
        uint256[2][] memory many = TestPoints.multiples(256);
        uint256[] memory leaves = new uint256[](256);
        vm.startPrank(ACCREDITOR);
        for (uint256 i; i < 256; ++i) {
            registry.addIssuer(many[i][0], many[i][1]);
            leaves[i] = PoseidonT3.hash(many[i]);
        }
        vm.stopPrank();
        assertEq(registry.root(), ReferenceLeanIMT.root(leaves));
        uint256[] memory siblings = ReferenceLeanIMT.siblings(leaves, 5);
        assertEq(siblings.length, 8);
        vm.prank(ACCREDITOR);
        uint256 gasBefore = gasleft();
        registry.removeIssuer(leaves[5], siblings);
        emit log_named_uint("removeIssuer gas at depth 8", gasBefore - gasleft());
        leaves[5] = 0;
        assertEq(registry.root(), ReferenceLeanIMT.root(leaves));
    }

    // ---------------------------------------------------------------- root history

    function test_isKnownRoot_supersededRootValidForAnHour() public {
        (, uint256 r0) = _add(0);
        vm.warp(T0 + 100);
        (, uint256 r1) = _add(1);
        assertTrue(registry.isKnownRoot(r0));
        assertTrue(registry.isKnownRoot(r1));
        vm.warp(T0 + 100 + 1 hours - 1);
        assertTrue(registry.isKnownRoot(r0));
        vm.warp(T0 + 100 + 1 hours);
        assertFalse(registry.isKnownRoot(r0));
        // The current root never lapses.
        vm.warp(T0 + 365 days);
        assertTrue(registry.isKnownRoot(r1));
    }

    function test_isKnownRoot_neverForARootNobodyMade() public {
        _add(0);
        assertFalse(registry.isKnownRoot(0));
        assertFalse(registry.isKnownRoot(12345));
    }

    function testFuzz_isKnownRoot_validityEdge(uint256 elapsed) public {
        elapsed = bound(elapsed, 0, 3 hours);
        (, uint256 r0) = _add(0);
        (, uint256 r1) = _add(1);
        vm.warp(T0 + elapsed);
        assertEq(registry.isKnownRoot(r0), elapsed < 1 hours);
        assertTrue(registry.isKnownRoot(r1));
    }

    function testFuzz_isKnownRoot_eachRootFromItsOwnSupersession(uint256 gap) public {
        // r0 superseded at T0, r1 at T0 + gap: each has its own hour.
        gap = bound(gap, 1, 2 hours);
        (, uint256 r0) = _add(0);
        (, uint256 r1) = _add(1);
        vm.warp(T0 + gap);
        (, uint256 r2) = _add(2);
        vm.warp(T0 + gap + 1 hours - 1);
        assertFalse(registry.isKnownRoot(r0));
        assertTrue(registry.isKnownRoot(r1));
        assertTrue(registry.isKnownRoot(r2));
    }
}
