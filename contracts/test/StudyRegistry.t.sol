// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {StudyRegistry} from "../src/StudyRegistry.sol";
import {IEligibilityVerifier} from "../src/interfaces/IEligibilityVerifier.sol";
import {IStudyRegistry} from "../src/interfaces/IStudyRegistry.sol";
import {EligibilityProof} from "../src/types/EligibilityProof.sol";
import {EligibilityFixture} from "./EligibilityVerifier.t.sol";

contract StudyRegistryTest is EligibilityFixture {
    StudyRegistry internal studies;

    address internal constant RESEARCHER = address(0x5E5);
    bytes32 internal constant META_1 = keccak256("study 1 document");
    bytes32 internal constant META_2 = keccak256("study 2 document");

    function setUp() public {
        _deployWithFixture();
        studies = new StudyRegistry(verifier);
        bytes32 role = verifier.CONSUMER_ROLE();
        vm.prank(ADMIN);
        verifier.grantRole(role, address(studies));
        vm.startPrank(RESEARCHER);
        studies.createStudy(META_1, criteriaHashes[0]);
        studies.createStudy(META_2, criteriaHashes[1]);
        vm.stopPrank();
    }

    function _enroll(address who, uint256 studyId, EligibilityProof memory p) internal {
        vm.prank(who);
        studies.enroll(studyId, p);
    }

    // ---------------------------------------------------------------- constructor

    function test_constructor_zeroVerifier_reverts() public {
        vm.expectRevert(IStudyRegistry.StudyRegistry__ZeroVerifier.selector);
        new StudyRegistry(IEligibilityVerifier(address(0)));
    }

    // ---------------------------------------------------------------- createStudy

    function test_createStudy_idsFromOne() public {
        assertEq(studies.studyCount(), 2);
        IStudyRegistry.Study memory s = studies.studyOf(1);
        assertEq(s.researcher, RESEARCHER);
        assertEq(s.createdAt, proofTime);
        assertEq(s.participantCount, 0);
        assertEq(s.metadataHash, META_1);
        assertEq(s.criteriaHash, criteriaHashes[0]);
        assertEq(studies.studyOf(2).criteriaHash, criteriaHashes[1]);

        vm.expectEmit(true, true, false, true, address(studies));
        emit IStudyRegistry.StudyCreated(3, address(this), bytes32(0), 7);
        assertEq(studies.createStudy(bytes32(0), 7), 3);
        assertEq(studies.studyOf(4).createdAt, 0);
    }

    function test_createStudy_zeroCriteria_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__InvalidCriteriaHash.selector, 0));
        studies.createStudy(META_1, 0);
    }

    function testFuzz_createStudy_criteriaFieldBound(uint256 criteriaHash) public {
        if (criteriaHash == 0 || criteriaHash >= F) {
            vm.expectRevert(
                abi.encodeWithSelector(IStudyRegistry.StudyRegistry__InvalidCriteriaHash.selector, criteriaHash)
            );
            studies.createStudy(META_1, criteriaHash);
        } else {
            uint256 id = studies.createStudy(META_1, criteriaHash);
            assertEq(studies.studyOf(id).criteriaHash, criteriaHash);
        }
    }

    function test_createStudy_fieldEdge() public {
        assertEq(studies.createStudy(META_1, F - 1), 3);
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__InvalidCriteriaHash.selector, F));
        studies.createStudy(META_1, F);
    }

    // ---------------------------------------------------------------- enroll

    function test_enroll_validProof() public {
        vm.expectEmit(true, true, false, true, address(verifier));
        emit IEligibilityVerifier.NullifierConsumed(address(studies), 1, nullifiers[0]);
        vm.expectEmit(true, true, false, true, address(studies));
        emit IStudyRegistry.Enrolled(1, ALICE, nullifiers[0]);
        _enroll(ALICE, 1, _proof(1));
        assertTrue(studies.isEnrolled(1, ALICE));
        assertFalse(studies.isEnrolled(2, ALICE));
        assertEq(studies.enrolledAt(1, ALICE), proofTime);
        assertEq(studies.studyOf(1).participantCount, 1);
        assertTrue(verifier.isNullifierUsed(address(studies), nullifiers[0]));
    }

    function test_enroll_gas() public {
        vm.prank(ALICE);
        uint256 before = gasleft();
        studies.enroll(1, _proof(1));
        uint256 used = before - gasleft();
        emit log_named_uint("enroll gas (execution, warm registry)", used);
        // Decision 020 and the sdk's explicit limit (1,500,000) rest on this staying small.
        assertLt(used, 400_000);
    }

    function test_enroll_unknownStudy_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__UnknownStudy.selector, 99));
        _enroll(ALICE, 99, _proof(1));
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__UnknownStudy.selector, 0));
        _enroll(ALICE, 0, _proof(1));
    }

    function test_enroll_replaySameAddress_reverts() public {
        _enroll(ALICE, 1, _proof(1));
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__AlreadyEnrolled.selector, 1, ALICE));
        _enroll(ALICE, 1, _proof(1));
        assertEq(studies.studyOf(1).participantCount, 1);
    }

    function test_enroll_replayFromAnotherAddress_reverts() public {
        // The same person (same nullifier) cannot enroll again from a second address.
        _enroll(ALICE, 1, _proof(1));
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__NullifierUsed.selector, nullifiers[0])
        );
        _enroll(MALLORY, 1, _proof(1));
        assertFalse(studies.isEnrolled(1, MALLORY));
    }

    function test_enroll_samePersonSecondStudy() public {
        _enroll(ALICE, 1, _proof(1));
        vm.expectEmit(true, true, false, true, address(studies));
        emit IStudyRegistry.Enrolled(2, ALICE, nullifiers[1]);
        _enroll(ALICE, 2, _proof(2));
        assertTrue(studies.isEnrolled(2, ALICE));
        assertTrue(nullifiers[0] != nullifiers[1]);
    }

    function test_enroll_frontRunning_reverts() public {
        // Mallory copies Alice's pending transaction: the proof is bound to Alice's address.
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _enroll(MALLORY, 1, _proof(1));
        assertFalse(studies.isEnrolled(1, MALLORY));
        assertEq(studies.studyOf(1).participantCount, 0);
        _enroll(ALICE, 1, _proof(1));
        assertTrue(studies.isEnrolled(1, ALICE));
    }

    function test_enroll_proofForAnotherStudy_reverts() public {
        // Study 2's proof in study 1: the criteria hash is study 2's.
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__WrongCriteria.selector, criteriaHashes[0], criteriaHashes[1]
            )
        );
        _enroll(ALICE, 1, _proof(2));
    }

    function test_enroll_wrongCriteriaHash_reverts() public {
        // Study 3 asks study 2's criteria; study 1's proof names study 1's criteria.
        uint256 id = studies.createStudy(META_2, criteriaHashes[1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__WrongCriteria.selector, criteriaHashes[1], criteriaHashes[0]
            )
        );
        _enroll(ALICE, id, _proof(1));
    }

    function test_enroll_sameCriteriaOtherStudyId_reverts() public {
        // Study 3 has study 1's criteria, but the proof's study id (a public input) is 1.
        uint256 id = studies.createStudy(META_1, criteriaHashes[0]);
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _enroll(ALICE, id, _proof(1));
    }

    function test_enroll_staleRoot_reverts_recentRootPasses() public {
        _changeIssuers();
        vm.warp(proofTime + 30 minutes);
        _enroll(ALICE, 1, _proof(1)); // superseded 30 min ago: still known
        vm.warp(proofTime + 1 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__UnknownRoot.selector, fixtureRoot)
        );
        _enroll(ALICE, 2, _proof(2));
    }

    function test_enroll_tooOld_reverts() public {
        vm.warp(proofTime + 1 hours + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__ProofTooOld.selector, proofTime, proofTime + 1 hours + 1
            )
        );
        _enroll(ALICE, 1, _proof(1));
    }

    function test_enroll_fromFuture_reverts() public {
        vm.warp(proofTime - 6 minutes);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__ProofFromFuture.selector, proofTime, proofTime - 6 minutes
            )
        );
        _enroll(ALICE, 1, _proof(1));
    }

    function test_enroll_registryWithoutConsumerRole_reverts() public {
        StudyRegistry unapproved = new StudyRegistry(verifier);
        unapproved.createStudy(META_1, criteriaHashes[0]);
        bytes32 role = verifier.CONSUMER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(unapproved), role)
        );
        vm.prank(ALICE);
        unapproved.enroll(1, _proof(1));
    }

    function test_enroll_refusalLeavesNoTrace() public {
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _enroll(MALLORY, 1, _proof(1));
        assertEq(studies.enrolledAt(1, MALLORY), 0);
        assertFalse(verifier.isNullifierUsed(address(studies), nullifiers[0]));
    }
}
