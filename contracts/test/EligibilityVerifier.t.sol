// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {PoseidonT3} from "poseidon-solidity/PoseidonT3.sol";
import {EligibilityVerifier} from "../src/EligibilityVerifier.sol";
import {IssuerRegistry} from "../src/IssuerRegistry.sol";
import {IEligibilityVerifier} from "../src/interfaces/IEligibilityVerifier.sol";
import {IGroth16Verifier} from "../src/interfaces/IGroth16Verifier.sol";
import {IIssuerRegistry} from "../src/interfaces/IIssuerRegistry.sol";
import {SnarkField} from "../src/libraries/SnarkField.sol";
import {EligibilityProof} from "../src/types/EligibilityProof.sol";
import {TestPoints} from "./IssuerRegistry.t.sol";

/// @notice The real eligibility proofs of contracts/test/fixtures/eligibility.json (written by
///         circuits/scripts/fixture.ts with the circuit's development keys) on the real generated
///         verifier, behind a real IssuerRegistry holding the fixture's two issuers.
abstract contract EligibilityFixture is Test {
    uint256 internal constant F = SnarkField.MODULUS;
    address internal constant ADMIN = address(0xAD);
    address internal constant ACCREDITOR = address(0xACC);
    /// @dev The fixture's recipient: every proof in it is bound to this address.
    address internal constant ALICE = 0x00000000000000000000000000000000000A11cE;
    address internal constant MALLORY = address(0xBAD);

    IssuerRegistry internal issuers;
    IGroth16Verifier internal groth16;
    EligibilityVerifier internal verifier;

    uint256[2][2] internal issuerKeys;
    uint256 internal fixtureRoot;
    uint256 internal proofTime;
    uint256[2] internal criteriaHashes;
    uint256[2] internal nullifiers;
    uint256[8][2] internal proofs;

    function _loadFixture() internal {
        string memory json = vm.readFile("contracts/test/fixtures/eligibility.json");
        for (uint256 i; i < 2; ++i) {
            string memory issuer = string.concat(".issuers[", vm.toString(i), "]");
            uint256[] memory key = vm.parseJsonUintArray(json, string.concat(issuer, ".publicKey"));
            issuerKeys[i] = [key[0], key[1]];
            string memory study = string.concat(".studies[", vm.toString(i), "]");
            assertEq(vm.parseJsonUint(json, string.concat(study, ".studyId")), i + 1, "fixture study ids are 1 and 2");
            criteriaHashes[i] = vm.parseJsonUint(json, string.concat(study, ".criteriaHash"));
            nullifiers[i] = vm.parseJsonUint(json, string.concat(study, ".nullifier"));
            uint256[] memory proof = vm.parseJsonUintArray(json, string.concat(study, ".proof"));
            assertEq(proof.length, 8);
            for (uint256 k; k < 8; ++k) proofs[i][k] = proof[k];
        }
        fixtureRoot = vm.parseJsonUint(json, ".issuersRoot");
        proofTime = vm.parseJsonUint(json, ".time");
        assertEq(vm.parseJsonAddress(json, ".recipient"), ALICE);
    }

    /// @dev Registry with the fixture's issuers, the generated verifier, and EligibilityVerifier;
    ///      the block time is the proofs' time.
    function _deployWithFixture() internal {
        _loadFixture();
        vm.warp(proofTime);
        issuers = new IssuerRegistry(ADMIN, ACCREDITOR);
        vm.startPrank(ACCREDITOR);
        for (uint256 i; i < 2; ++i) issuers.addIssuer(issuerKeys[i][0], issuerKeys[i][1]);
        vm.stopPrank();
        groth16 = IGroth16Verifier(deployCode("EligibilityGroth16Verifier.sol:EligibilityGroth16Verifier"));
        verifier = new EligibilityVerifier(groth16, issuers, ADMIN);
    }

    /// @dev The fixture's proof for study `studyId` (1 or 2), as a participant submits it.
    function _proof(uint256 studyId) internal view returns (EligibilityProof memory) {
        uint256 i = studyId - 1;
        return EligibilityProof({
            issuersRoot: fixtureRoot,
            criteriaHash: criteriaHashes[i],
            time: proofTime,
            nullifier: nullifiers[i],
            proof: proofs[i]
        });
    }

    /// @dev Supersedes the current root by accrediting a third issuer at the current block time.
    function _changeIssuers() internal {
        uint256[2][] memory pts = TestPoints.multiples(1);
        vm.prank(ACCREDITOR);
        issuers.addIssuer(pts[0][0], pts[0][1]);
    }
}

contract EligibilityVerifierTest is EligibilityFixture {
    address internal constant CONSUMER = address(0xC0);
    address internal constant OTHER_CONSUMER = address(0xC1);

    function setUp() public {
        _deployWithFixture();
        bytes32 role = verifier.CONSUMER_ROLE();
        vm.startPrank(ADMIN);
        verifier.grantRole(role, CONSUMER);
        verifier.grantRole(role, OTHER_CONSUMER);
        vm.stopPrank();
    }

    function _consume(uint256 studyId, uint256 criteriaHash, address recipient, EligibilityProof memory p) internal {
        vm.prank(CONSUMER);
        verifier.consume(studyId, criteriaHash, recipient, p);
    }

    // ---------------------------------------------------------------- JS and Solidity agree

    function test_fixture_onChainRootOfTheTwoIssuersIsTheSdksRoot() public view {
        // The sdk (@zk-kit/lean-imt + poseidon-lite) computed fixtureRoot; the contract computed its own.
        assertEq(issuers.root(), fixtureRoot);
        assertEq(fixtureRoot, PoseidonT3.hash([PoseidonT3.hash(issuerKeys[0]), PoseidonT3.hash(issuerKeys[1])]));
        assertTrue(issuers.isKnownRoot(fixtureRoot));
    }

    function test_fixture_generatedVerifierAcceptsTheProofs() public view {
        for (uint256 studyId = 1; studyId <= 2; ++studyId) {
            EligibilityProof memory p = _proof(studyId);
            uint256[8] memory q = p.proof;
            uint256[6] memory inputs =
                [p.issuersRoot, p.criteriaHash, studyId, p.time, p.nullifier, uint256(uint160(ALICE))];
            assertTrue(groth16.verifyProof([q[0], q[1]], [[q[2], q[3]], [q[4], q[5]]], [q[6], q[7]], inputs));
        }
    }

    // ---------------------------------------------------------------- constructor and roles

    function test_constructor_wiring() public view {
        assertEq(address(verifier.groth16Verifier()), address(groth16));
        assertEq(address(verifier.issuerRegistry()), address(issuers));
        assertTrue(verifier.hasRole(verifier.DEFAULT_ADMIN_ROLE(), ADMIN));
        assertEq(verifier.SNARK_SCALAR_FIELD(), F);
        assertEq(verifier.MAX_PROOF_AGE(), 1 hours);
        assertEq(verifier.MAX_CLOCK_SKEW(), 5 minutes);
    }

    function test_constructor_zeroAddress_reverts() public {
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__ZeroAddress.selector);
        new EligibilityVerifier(IGroth16Verifier(address(0)), issuers, ADMIN);
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__ZeroAddress.selector);
        new EligibilityVerifier(groth16, IIssuerRegistry(address(0)), ADMIN);
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__ZeroAddress.selector);
        new EligibilityVerifier(groth16, issuers, address(0));
    }

    function test_consume_notConsumer_reverts() public {
        bytes32 role = verifier.CONSUMER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, ALICE, role));
        vm.prank(ALICE);
        verifier.consume(1, criteriaHashes[0], ALICE, _proof(1));
    }

    // ---------------------------------------------------------------- consume

    function test_consume_validProof_spendsTheNullifier() public {
        vm.expectEmit(true, true, false, true, address(verifier));
        emit IEligibilityVerifier.NullifierConsumed(CONSUMER, 1, nullifiers[0]);
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
        assertTrue(verifier.isNullifierUsed(CONSUMER, nullifiers[0]));
        assertFalse(verifier.isNullifierUsed(OTHER_CONSUMER, nullifiers[0]));
    }

    function test_consume_replay_reverts() public {
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__NullifierUsed.selector, nullifiers[0])
        );
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
    }

    function test_consume_secondStudy_otherNullifier() public {
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
        _consume(2, criteriaHashes[1], ALICE, _proof(2));
        assertTrue(nullifiers[0] != nullifiers[1]);
        assertTrue(verifier.isNullifierUsed(CONSUMER, nullifiers[1]));
    }

    function test_consume_nullifiersArePerConsumer() public {
        // Another consumer numbers its own studies: its study 1 is not this one's.
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
        vm.prank(OTHER_CONSUMER);
        verifier.consume(1, criteriaHashes[0], ALICE, _proof(1));
        assertTrue(verifier.isNullifierUsed(OTHER_CONSUMER, nullifiers[0]));
    }

    function test_consume_unknownRoot_reverts() public {
        EligibilityProof memory p = _proof(1);
        // Issuer 1's leaf: never a root here (issuer 0's leaf was, while it was alone in the tree).
        p.issuersRoot = PoseidonT3.hash(issuerKeys[1]);
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__UnknownRoot.selector, p.issuersRoot)
        );
        _consume(1, criteriaHashes[0], ALICE, p);
    }

    function test_isKnownRoot_theOneIssuerRootOfSetUpIsKnownForTheHour() public {
        // setUp added the issuers one after the other: the one-leaf tree's root was current for a moment.
        assertTrue(issuers.isKnownRoot(PoseidonT3.hash(issuerKeys[0])));
        vm.warp(proofTime + 1 hours);
        assertFalse(issuers.isKnownRoot(PoseidonT3.hash(issuerKeys[0])));
        assertTrue(issuers.isKnownRoot(fixtureRoot));
    }

    function test_consume_rootSupersededWithinTheHour_passes() public {
        _changeIssuers();
        assertTrue(issuers.root() != fixtureRoot);
        vm.warp(proofTime + 1 hours - 1);
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
    }

    function test_consume_staleRoot_reverts() public {
        _changeIssuers();
        // An hour after the change the proof's time is still acceptable, its root no longer is.
        vm.warp(proofTime + 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__UnknownRoot.selector, fixtureRoot)
        );
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
    }

    function test_consume_wrongCriteria_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__WrongCriteria.selector, criteriaHashes[1], criteriaHashes[0]
            )
        );
        _consume(1, criteriaHashes[1], ALICE, _proof(1));
    }

    function test_consume_claimedCriteriaNotProven_reverts() public {
        // Claiming study 2's criteria with study 1's proof passes the hash comparison and fails the pairing.
        EligibilityProof memory p = _proof(1);
        p.criteriaHash = criteriaHashes[1];
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _consume(1, criteriaHashes[1], ALICE, p);
    }

    function test_consume_frontRunning_otherRecipient_reverts() public {
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _consume(1, criteriaHashes[0], MALLORY, _proof(1));
        // The rightful recipient still can.
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
    }

    function test_consume_otherStudy_reverts() public {
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _consume(2, criteriaHashes[0], ALICE, _proof(1));
    }

    function test_consume_tooOld_reverts() public {
        vm.warp(proofTime + 1 hours + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__ProofTooOld.selector, proofTime, proofTime + 1 hours + 1
            )
        );
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
    }

    function test_consume_fromFuture_reverts() public {
        vm.warp(proofTime - 5 minutes - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__ProofFromFuture.selector, proofTime, proofTime - 5 minutes - 1
            )
        );
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
    }

    function test_consume_timeWindowEdges_pass() public {
        vm.warp(proofTime + 1 hours);
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
        vm.warp(proofTime - 5 minutes);
        _consume(2, criteriaHashes[1], ALICE, _proof(2));
    }

    function test_consume_alteredProof_reverts() public {
        EligibilityProof memory p = _proof(1);
        p.proof[0] = p.proof[0] ^ 1;
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _consume(1, criteriaHashes[0], ALICE, p);
    }

    function test_consume_otherTimeClaimed_reverts() public {
        EligibilityProof memory p = _proof(1);
        p.time = proofTime + 1;
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _consume(1, criteriaHashes[0], ALICE, p);
    }

    function test_consume_checkOrder() public {
        // Each case fails two checks; the earlier one in the documented order is reported.
        EligibilityProof memory p = _proof(1);
        p.issuersRoot = 1;
        vm.expectRevert(abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__UnknownRoot.selector, 1));
        _consume(1, criteriaHashes[1], ALICE, p); // and wrong criteria

        vm.warp(proofTime + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__WrongCriteria.selector, criteriaHashes[1], criteriaHashes[0]
            )
        );
        _consume(1, criteriaHashes[1], ALICE, _proof(1)); // and too old

        vm.warp(proofTime);
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
        vm.warp(proofTime + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__ProofTooOld.selector, proofTime, proofTime + 2 hours
            )
        );
        _consume(1, criteriaHashes[0], ALICE, _proof(1)); // and nullifier used

        vm.warp(proofTime);
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__NullifierUsed.selector, nullifiers[0])
        );
        _consume(1, criteriaHashes[0], MALLORY, _proof(1)); // and the wrong recipient
    }

    // ---------------------------------------------------------------- verify (dry run)

    function test_verify_acceptsWithoutSpending() public view {
        verifier.verify(CONSUMER, 1, criteriaHashes[0], ALICE, _proof(1));
        assertFalse(verifier.isNullifierUsed(CONSUMER, nullifiers[0]));
    }

    function test_verify_refusesWithConsumesErrors() public {
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        verifier.verify(CONSUMER, 1, criteriaHashes[0], MALLORY, _proof(1));
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__NullifierUsed.selector, nullifiers[0])
        );
        verifier.verify(CONSUMER, 1, criteriaHashes[0], ALICE, _proof(1));
        // The same nullifier is unspent for another consumer.
        verifier.verify(OTHER_CONSUMER, 1, criteriaHashes[0], ALICE, _proof(1));
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_consume_timeWindow(int256 offset) public {
        // Block time = proof time + offset: accepted exactly when -5 min <= offset <= 1 h... seen from
        // the block: proof time within [block - 1 h, block + 5 min].
        offset = bound(offset, -2 hours, 2 hours);
        uint256 blockTime = uint256(int256(proofTime) + offset);
        vm.warp(blockTime);
        if (offset < -5 minutes) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IEligibilityVerifier.EligibilityVerifier__ProofFromFuture.selector, proofTime, blockTime
                )
            );
        } else if (offset > 1 hours) {
            vm.expectRevert(
                abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__ProofTooOld.selector, proofTime, blockTime)
            );
        }
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
        assertEq(verifier.isNullifierUsed(CONSUMER, nullifiers[0]), offset >= -5 minutes && offset <= 1 hours);
    }

    function testFuzz_consume_rootValidity(uint256 elapsed) public {
        // Issuers change at the proof's time; the proof stays valid while its root is known (< 1 h)
        // and its time in the window (<= 1 h): the root's bound is the tighter one.
        elapsed = bound(elapsed, 0, 1 hours);
        _changeIssuers();
        vm.warp(proofTime + elapsed);
        if (elapsed >= 1 hours) {
            vm.expectRevert(
                abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__UnknownRoot.selector, fixtureRoot)
            );
        }
        _consume(1, criteriaHashes[0], ALICE, _proof(1));
    }

    function testFuzz_consume_nullifierAlias_reverts(uint256 k) public {
        // n + k·F verifies like n inside the pairing; the field check refuses it after the unused check.
        uint256 maxK = (type(uint256).max - nullifiers[0]) / F;
        k = bound(k, 1, maxK);
        EligibilityProof memory p = _proof(1);
        p.nullifier = nullifiers[0] + k * F;
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__InputOutOfField.selector, 4, p.nullifier)
        );
        _consume(1, criteriaHashes[0], ALICE, p);
    }

    function testFuzz_consume_studyIdOutOfField_reverts(uint256 studyId) public {
        studyId = bound(studyId, F, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__InputOutOfField.selector, 2, studyId)
        );
        _consume(studyId, criteriaHashes[0], ALICE, _proof(1));
    }

    function testFuzz_consume_criteriaOutOfField_reverts(uint256 criteriaHash) public {
        criteriaHash = bound(criteriaHash, F, type(uint256).max);
        EligibilityProof memory p = _proof(1);
        p.criteriaHash = criteriaHash;
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__InputOutOfField.selector, 1, criteriaHash)
        );
        _consume(1, criteriaHash, ALICE, p);
    }

    /// forge-config: default.fuzz.runs = 128
    function testFuzz_consume_anyAlteredProofElement_reverts(uint8 which, uint256 delta) public {
        uint256 i = bound(which, 0, 7);
        delta = bound(delta, 1, type(uint256).max);
        EligibilityProof memory p = _proof(1);
        unchecked {
            // Wrapping is fine: any other value must fail.
            p.proof[i] += delta;
        }
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _consume(1, criteriaHashes[0], ALICE, p);
    }

    /// forge-config: default.fuzz.runs = 128
    function testFuzz_consume_anyOtherRecipient_reverts(address recipient) public {
        vm.assume(recipient != ALICE);
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _consume(1, criteriaHashes[0], recipient, _proof(1));
    }
}
