// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";
import {ConsentToken} from "../src/ConsentToken.sol";
import {OrganizationRegistry} from "../src/OrganizationRegistry.sol";
import {StudyRegistry} from "../src/StudyRegistry.sol";
import {IConsentToken} from "../src/interfaces/IConsentToken.sol";
import {IEligibilityVerifier} from "../src/interfaces/IEligibilityVerifier.sol";
import {IOrganizationRegistry} from "../src/interfaces/IOrganizationRegistry.sol";
import {IStudyRegistry} from "../src/interfaces/IStudyRegistry.sol";
import {EligibilityProof} from "../src/types/EligibilityProof.sol";
import {ForwardRequests} from "./ConsentToken.t.sol";
import {EligibilityFixture} from "./EligibilityVerifier.t.sol";

contract StudyRegistryTest is EligibilityFixture, ForwardRequests {
    StudyRegistry internal studies;
    ConsentToken internal token;
    OrganizationRegistry internal orgs;
    ERC2771Forwarder internal forwarder;

    address internal constant RESEARCHER = address(0x5E5);
    address internal constant IRB = address(0x1DB);
    address internal constant OTHER_ORG = address(0x0E6);
    address internal constant PAY_TOKEN = address(0x70C);
    bytes32 internal constant META_1 = keccak256("study 1 document");
    bytes32 internal constant META_2 = keccak256("study 2 document");
    bytes32 internal constant EXTRACT = keccak256("sealed extract");
    bytes32 internal constant RATIONALE = keccak256("irb rationale");
    uint64 internal constant DURATION = 180 days;

    function setUp() public {
        _deployWithFixture();
        forwarder = new ERC2771Forwarder("Consentry Forwarder");
        token = new ConsentToken(ADMIN, address(forwarder), "");
        orgs = new OrganizationRegistry(ADMIN, ACCREDITOR);
        studies = new StudyRegistry(address(forwarder), verifier, token, orgs);
        vm.startPrank(ADMIN);
        verifier.grantRole(verifier.CONSUMER_ROLE(), address(studies));
        token.grantRole(token.MINTER_ROLE(), address(studies));
        vm.stopPrank();
        _registerOrg(IRB, IOrganizationRegistry.Kind.IRB);
        _registerOrg(OTHER_ORG, IOrganizationRegistry.Kind.Researcher);
        vm.startPrank(RESEARCHER);
        studies.createStudy(_params(META_1, criteriaHashes[0]));
        studies.createStudy(_params(META_2, criteriaHashes[1]));
        vm.stopPrank();
    }

    function _registerOrg(address org, IOrganizationRegistry.Kind kind) internal {
        vm.prank(org);
        orgs.register(kind, keccak256(abi.encode(org)), bytes32(0));
        vm.prank(ACCREDITOR);
        orgs.accredit(org, uint64(block.timestamp + 365 days));
    }

    function _params(bytes32 meta, uint256 criteriaHash) internal pure returns (IStudyRegistry.StudyParams memory) {
        return IStudyRegistry.StudyParams({
            metadataHash: meta,
            protocolHash: keccak256("protocol"),
            consentHash: keccak256("consent"),
            criteriaHash: criteriaHash,
            categories: 0x5,
            paymentToken: PAY_TOKEN,
            pricePerParticipant: 10e18,
            consentDuration: DURATION,
            minCohort: 3,
            maxParticipants: 100
        });
    }

    function _approve(uint256 studyId) internal {
        vm.prank(IRB);
        studies.approve(studyId, RATIONALE);
    }

    function _enroll(address who, uint256 studyId, EligibilityProof memory p) internal {
        vm.prank(who);
        studies.enroll(studyId, p, EXTRACT);
    }

    // ---------------------------------------------------------------- constructor

    function test_constructor_wiring() public view {
        assertEq(address(studies.eligibilityVerifier()), address(verifier));
        assertEq(address(studies.consentToken()), address(token));
        assertEq(address(studies.organizationRegistry()), address(orgs));
        assertTrue(studies.isTrustedForwarder(address(forwarder)));
    }

    function test_constructor_zeroAddress_reverts() public {
        vm.expectRevert(IStudyRegistry.StudyRegistry__ZeroAddress.selector);
        new StudyRegistry(address(forwarder), IEligibilityVerifier(address(0)), token, orgs);
        vm.expectRevert(IStudyRegistry.StudyRegistry__ZeroAddress.selector);
        new StudyRegistry(address(forwarder), verifier, IConsentToken(address(0)), orgs);
        vm.expectRevert(IStudyRegistry.StudyRegistry__ZeroAddress.selector);
        new StudyRegistry(address(forwarder), verifier, token, IOrganizationRegistry(address(0)));
    }

    // ---------------------------------------------------------------- createStudy

    function test_createStudy_storesEverything() public view {
        assertEq(studies.studyCount(), 2);
        IStudyRegistry.Study memory s = studies.studyOf(1);
        IStudyRegistry.StudyParams memory p = _params(META_1, criteriaHashes[0]);
        assertEq(s.researcher, RESEARCHER);
        assertEq(uint8(s.status), uint8(IStudyRegistry.Status.Pending));
        assertEq(s.createdAt, proofTime);
        assertEq(s.participantCount, 0);
        assertEq(s.minCohort, 3);
        assertEq(s.maxParticipants, 100);
        assertEq(s.consentDuration, DURATION);
        assertEq(s.paymentToken, PAY_TOKEN);
        assertEq(s.irb, address(0));
        assertEq(s.decidedAt, 0);
        assertEq(s.pricePerParticipant, 10e18);
        assertEq(s.categories, 0x5);
        assertEq(s.metadataHash, META_1);
        assertEq(s.protocolHash, p.protocolHash);
        assertEq(s.consentHash, p.consentHash);
        assertEq(s.criteriaHash, criteriaHashes[0]);
        assertEq(studies.studyOf(2).criteriaHash, criteriaHashes[1]);
        assertEq(studies.studyOf(3).createdAt, 0);
    }

    function test_createStudy_emitsAllParams() public {
        IStudyRegistry.StudyParams memory p = _params(bytes32(0), 7);
        vm.expectEmit(true, true, false, true, address(studies));
        emit IStudyRegistry.StudyCreated(3, address(this), p);
        assertEq(studies.createStudy(p), 3);
    }

    function testFuzz_createStudy_criteriaFieldBound(uint256 criteriaHash) public {
        IStudyRegistry.StudyParams memory p = _params(META_1, criteriaHash);
        if (criteriaHash == 0 || criteriaHash >= F) {
            vm.expectRevert(
                abi.encodeWithSelector(IStudyRegistry.StudyRegistry__InvalidCriteriaHash.selector, criteriaHash)
            );
            studies.createStudy(p);
        } else {
            uint256 id = studies.createStudy(p);
            assertEq(studies.studyOf(id).criteriaHash, criteriaHash);
        }
    }

    function testFuzz_createStudy_params(
        uint64 duration,
        uint32 minCohort,
        uint32 maxParticipants,
        address payToken,
        uint256 price,
        uint256 categories
    ) public {
        IStudyRegistry.StudyParams memory p = _params(META_1, 1);
        (p.consentDuration, p.minCohort, p.maxParticipants) = (duration, minCohort, maxParticipants);
        (p.paymentToken, p.pricePerParticipant, p.categories) = (payToken, price, categories);
        if (duration == 0) {
            vm.expectRevert(IStudyRegistry.StudyRegistry__ZeroConsentDuration.selector);
            studies.createStudy(p);
        } else if (minCohort == 0 || maxParticipants < minCohort) {
            vm.expectRevert(
                abi.encodeWithSelector(IStudyRegistry.StudyRegistry__InvalidCohort.selector, minCohort, maxParticipants)
            );
            studies.createStudy(p);
        } else if (price != 0 && payToken == address(0)) {
            vm.expectRevert(IStudyRegistry.StudyRegistry__PriceWithoutToken.selector);
            studies.createStudy(p);
        } else {
            IStudyRegistry.Study memory s = studies.studyOf(studies.createStudy(p));
            assertEq(s.consentDuration, duration);
            assertEq(s.minCohort, minCohort);
            assertEq(s.maxParticipants, maxParticipants);
            assertEq(s.paymentToken, payToken);
            assertEq(s.pricePerParticipant, price);
            assertEq(s.categories, categories);
        }
    }

    function test_createStudy_throughForwarder_researcherIsTheSigner() public {
        uint256 key = 0x5E5E5;
        ERC2771Forwarder.ForwardRequestData memory req = _signedRequest(
            forwarder, key, address(studies), abi.encodeCall(IStudyRegistry.createStudy, (_params(META_1, 9)))
        );
        vm.prank(MALLORY); // the relayer
        forwarder.execute(req);
        assertEq(studies.studyOf(3).researcher, vm.addr(key));
        // The researcher's own calls, relayed too, pass the researcher check.
        ERC2771Forwarder.ForwardRequestData memory closeReq =
            _signedRequest(forwarder, key, address(studies), abi.encodeCall(IStudyRegistry.close, (3)));
        vm.prank(MALLORY);
        forwarder.execute(closeReq);
        assertEq(uint8(studies.statusOf(3)), uint8(IStudyRegistry.Status.Closed));
    }

    // ---------------------------------------------------------------- IRB decisions

    function test_isIrb() public {
        assertTrue(studies.isIrb(IRB));
        assertFalse(studies.isIrb(OTHER_ORG)); // accredited, but a researcher
        assertFalse(studies.isIrb(MALLORY)); // not registered
        address pending = address(0x1DB2);
        vm.prank(pending);
        orgs.register(IOrganizationRegistry.Kind.IRB, keccak256("p"), bytes32(0));
        assertFalse(studies.isIrb(pending)); // not accredited
        vm.warp(block.timestamp + 366 days);
        assertFalse(studies.isIrb(IRB)); // accreditation lapsed
    }

    function test_approve() public {
        vm.expectEmit(true, true, false, true, address(studies));
        emit IStudyRegistry.StudyDecided(1, IRB, true, RATIONALE);
        vm.expectEmit(true, false, false, true, address(studies));
        emit IStudyRegistry.StudyStatusChanged(1, IStudyRegistry.Status.Pending, IStudyRegistry.Status.Approved);
        _approve(1);
        IStudyRegistry.Study memory s = studies.studyOf(1);
        assertEq(uint8(s.status), uint8(IStudyRegistry.Status.Approved));
        assertEq(s.irb, IRB);
        assertEq(s.decidedAt, block.timestamp);
    }

    function test_reject() public {
        vm.expectEmit(true, true, false, true, address(studies));
        emit IStudyRegistry.StudyDecided(1, IRB, false, RATIONALE);
        vm.prank(IRB);
        studies.reject(1, RATIONALE);
        assertEq(uint8(studies.statusOf(1)), uint8(IStudyRegistry.Status.Rejected));
        vm.expectRevert(
            abi.encodeWithSelector(
                IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Rejected
            )
        );
        _approve(1);
    }

    function test_decide_notIrb_reverts() public {
        address[3] memory notIrbs = [RESEARCHER, OTHER_ORG, MALLORY];
        for (uint256 i; i < 3; ++i) {
            vm.startPrank(notIrbs[i]);
            vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__NotIrb.selector, notIrbs[i]));
            studies.approve(1, RATIONALE);
            vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__NotIrb.selector, notIrbs[i]));
            studies.reject(1, RATIONALE);
            vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__NotIrb.selector, notIrbs[i]));
            studies.suspend(1, RATIONALE);
            vm.stopPrank();
        }
    }

    function test_decide_suspendedIrb_reverts() public {
        vm.prank(ACCREDITOR);
        orgs.suspend(IRB, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__NotIrb.selector, IRB));
        _approve(1);
    }

    function test_decide_unknownStudy_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__UnknownStudy.selector, 9));
        _approve(9);
    }

    function test_decide_onlyWhilePending() public {
        _approve(1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Approved
            )
        );
        vm.prank(IRB);
        studies.reject(1, RATIONALE);
    }

    function test_suspend() public {
        vm.expectRevert(
            abi.encodeWithSelector(IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Pending)
        );
        vm.prank(IRB);
        studies.suspend(1, RATIONALE);
        _approve(1);
        vm.expectEmit(true, true, false, true, address(studies));
        emit IStudyRegistry.StudySuspended(1, IRB, RATIONALE);
        vm.expectEmit(true, false, false, true, address(studies));
        emit IStudyRegistry.StudyStatusChanged(1, IStudyRegistry.Status.Approved, IStudyRegistry.Status.Suspended);
        vm.prank(IRB);
        studies.suspend(1, RATIONALE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Suspended
            )
        );
        _enroll(ALICE, 1, _proof(1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Suspended
            )
        );
        vm.prank(RESEARCHER);
        studies.resume(1);
    }

    function test_suspend_paused() public {
        _approve(1);
        vm.prank(RESEARCHER);
        studies.pause(1);
        vm.prank(IRB);
        studies.suspend(1, RATIONALE);
        assertEq(uint8(studies.statusOf(1)), uint8(IStudyRegistry.Status.Suspended));
    }

    // ---------------------------------------------------------------- researcher lifecycle

    function test_pauseResumeClose() public {
        _approve(1);
        vm.startPrank(RESEARCHER);
        vm.expectEmit(true, false, false, true, address(studies));
        emit IStudyRegistry.StudyStatusChanged(1, IStudyRegistry.Status.Approved, IStudyRegistry.Status.Paused);
        studies.pause(1);
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Paused)
        );
        _enroll(ALICE, 1, _proof(1));
        vm.startPrank(RESEARCHER);
        vm.expectRevert(
            abi.encodeWithSelector(IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Paused)
        );
        studies.pause(1);
        studies.resume(1);
        vm.stopPrank();
        _enroll(ALICE, 1, _proof(1));
        vm.startPrank(RESEARCHER);
        vm.expectEmit(true, false, false, true, address(studies));
        emit IStudyRegistry.StudyStatusChanged(1, IStudyRegistry.Status.Approved, IStudyRegistry.Status.Closed);
        studies.close(1);
        vm.expectRevert(
            abi.encodeWithSelector(IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Closed)
        );
        studies.resume(1);
        vm.expectRevert(
            abi.encodeWithSelector(IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Closed)
        );
        studies.close(1);
        vm.stopPrank();
        // Closing ends enrollment; consents already given stand until they expire or are revoked.
        assertTrue(token.isActive(ALICE, 1));
    }

    function test_close_pending() public {
        vm.prank(RESEARCHER);
        studies.close(2);
        assertEq(uint8(studies.statusOf(2)), uint8(IStudyRegistry.Status.Closed));
    }

    function testFuzz_lifecycle_notResearcher_reverts(address caller) public {
        vm.assume(caller != RESEARCHER && caller != address(forwarder));
        _approve(1);
        vm.startPrank(caller);
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__NotResearcher.selector, 1, caller));
        studies.pause(1);
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__NotResearcher.selector, 1, caller));
        studies.resume(1);
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__NotResearcher.selector, 1, caller));
        studies.close(1);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- enroll

    function test_enroll_validProof_mintsConsent() public {
        _approve(1);
        uint64 expiry = uint64(block.timestamp) + DURATION;
        vm.expectEmit(true, true, false, true, address(verifier));
        emit IEligibilityVerifier.NullifierConsumed(address(studies), 1, nullifiers[0]);
        vm.expectEmit(true, true, false, true, address(token));
        emit IConsentToken.ConsentGranted(1, ALICE, expiry);
        vm.expectEmit(true, true, false, true, address(studies));
        emit IStudyRegistry.Enrolled(1, ALICE, nullifiers[0], EXTRACT, expiry);
        _enroll(ALICE, 1, _proof(1));
        assertTrue(studies.isEnrolled(1, ALICE));
        assertFalse(studies.isEnrolled(2, ALICE));
        assertEq(studies.enrolledAt(1, ALICE), proofTime);
        assertEq(studies.extractHashOf(1, ALICE), EXTRACT);
        assertEq(studies.studyOf(1).participantCount, 1);
        assertTrue(verifier.isNullifierUsed(address(studies), nullifiers[0]));
        assertEq(token.balanceOf(ALICE, 1), 1);
        assertEq(token.expiresAt(ALICE, 1), expiry);
        assertTrue(token.isActive(ALICE, 1));
        vm.warp(expiry);
        assertFalse(token.isActive(ALICE, 1));
    }

    function test_enroll_gas() public {
        _approve(1);
        vm.prank(ALICE);
        uint256 before = gasleft();
        studies.enroll(1, _proof(1), EXTRACT);
        uint256 used = before - gasleft();
        emit log_named_uint("enroll gas (execution, warm registry, consent minted)", used);
        // Decision 020 and the sdk's explicit limit (1,500,000) rest on this staying small.
        assertLt(used, 500_000);
    }

    function test_enroll_pendingOrRejected_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Pending)
        );
        _enroll(ALICE, 1, _proof(1));
        vm.prank(IRB);
        studies.reject(1, RATIONALE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStudyRegistry.StudyRegistry__WrongStatus.selector, 1, IStudyRegistry.Status.Rejected
            )
        );
        _enroll(ALICE, 1, _proof(1));
    }

    function test_enroll_full_reverts() public {
        // A fresh registry whose study 1 takes one participant; fullness is checked before the proof.
        StudyRegistry small = new StudyRegistry(address(forwarder), verifier, token, orgs);
        vm.startPrank(ADMIN);
        verifier.grantRole(verifier.CONSUMER_ROLE(), address(small));
        token.grantRole(token.MINTER_ROLE(), address(small));
        vm.stopPrank();
        IStudyRegistry.StudyParams memory p = _params(META_1, criteriaHashes[0]);
        (p.minCohort, p.maxParticipants) = (1, 1);
        small.createStudy(p);
        vm.prank(IRB);
        small.approve(1, RATIONALE);
        vm.prank(ALICE);
        small.enroll(1, _proof(1), EXTRACT);
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__StudyFull.selector, 1));
        vm.prank(MALLORY);
        small.enroll(1, _proof(1), EXTRACT);
        assertEq(small.studyOf(1).participantCount, 1);
    }

    function test_enroll_unknownStudy_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__UnknownStudy.selector, 99));
        _enroll(ALICE, 99, _proof(1));
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__UnknownStudy.selector, 0));
        _enroll(ALICE, 0, _proof(1));
    }

    function test_enroll_replaySameAddress_reverts() public {
        _approve(1);
        _enroll(ALICE, 1, _proof(1));
        vm.expectRevert(abi.encodeWithSelector(IStudyRegistry.StudyRegistry__AlreadyEnrolled.selector, 1, ALICE));
        _enroll(ALICE, 1, _proof(1));
        assertEq(studies.studyOf(1).participantCount, 1);
    }

    function test_enroll_replayFromAnotherAddress_reverts() public {
        _approve(1);
        _enroll(ALICE, 1, _proof(1));
        vm.expectRevert(
            abi.encodeWithSelector(IEligibilityVerifier.EligibilityVerifier__NullifierUsed.selector, nullifiers[0])
        );
        _enroll(MALLORY, 1, _proof(1));
        assertFalse(studies.isEnrolled(1, MALLORY));
    }

    function test_enroll_samePersonSecondStudy() public {
        _approve(1);
        _approve(2);
        _enroll(ALICE, 1, _proof(1));
        _enroll(ALICE, 2, _proof(2));
        assertTrue(studies.isEnrolled(2, ALICE));
        assertTrue(token.isActive(ALICE, 2));
    }

    function test_enroll_frontRunning_reverts() public {
        _approve(1);
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _enroll(MALLORY, 1, _proof(1));
        assertEq(studies.studyOf(1).participantCount, 0);
        assertEq(token.balanceOf(MALLORY, 1), 0);
        _enroll(ALICE, 1, _proof(1));
        assertTrue(studies.isEnrolled(1, ALICE));
    }

    function test_enroll_relayedRequest_participantIsTheSignerNotTheRelayer() public {
        // A relayed enrollment signed by another key is enrolled as that signer: the proof, bound
        // to ALICE, is refused for it, and nothing is credited to the relayer either.
        _approve(1);
        uint256 key = 0xB0B;
        ERC2771Forwarder.ForwardRequestData memory req = _signedRequest(
            forwarder, key, address(studies), abi.encodeCall(IStudyRegistry.enroll, (1, _proof(1), EXTRACT))
        );
        // The registry asks the verifier for the signer, not for the relayer (ALICE, the proof's own
        // recipient, relaying it does not make it the participant); the forwarder reports the refusal.
        vm.expectCall(
            address(verifier),
            abi.encodeCall(IEligibilityVerifier.consume, (1, criteriaHashes[0], vm.addr(key), _proof(1)))
        );
        vm.prank(ALICE);
        vm.expectRevert(Errors.FailedCall.selector);
        forwarder.execute(req);
        assertFalse(studies.isEnrolled(1, ALICE));
        assertFalse(studies.isEnrolled(1, vm.addr(key)));
    }

    /// @dev The fixture's `relayed` proof: another person's, for study 1, bound to the address of a published test key.
    function _relayedProof() internal view returns (uint256 key, address participant, EligibilityProof memory p) {
        string memory json = vm.readFile("contracts/test/fixtures/eligibility.json");
        key = vm.parseJsonUint(json, ".relayed.privateKey");
        participant = vm.parseJsonAddress(json, ".relayed.recipient");
        assertEq(vm.addr(key), participant);
        assertEq(vm.parseJsonUint(json, ".relayed.studyId"), 1);
        uint256[] memory proof = vm.parseJsonUintArray(json, ".relayed.proof");
        p.issuersRoot = fixtureRoot;
        p.criteriaHash = vm.parseJsonUint(json, ".relayed.criteriaHash");
        p.time = proofTime;
        p.nullifier = vm.parseJsonUint(json, ".relayed.nullifier");
        for (uint256 k; k < 8; ++k) p.proof[k] = proof[k];
    }

    function test_enroll_throughForwarder_realProof_participantIsTheSigner() public {
        _approve(1);
        (uint256 key, address participant, EligibilityProof memory p) = _relayedProof();
        uint64 expiry = uint64(block.timestamp) + DURATION;
        ERC2771Forwarder.ForwardRequestData memory req = _signedRequest(
            forwarder, key, address(studies), abi.encodeCall(IStudyRegistry.enroll, (1, p, EXTRACT))
        );
        vm.expectEmit(true, true, false, true, address(studies));
        emit IStudyRegistry.Enrolled(1, participant, p.nullifier, EXTRACT, expiry);
        vm.prank(MALLORY); // the relayer pays; the participant has no ether
        forwarder.execute(req);
        assertEq(participant.balance, 0);
        assertTrue(studies.isEnrolled(1, participant));
        assertFalse(studies.isEnrolled(1, MALLORY));
        assertTrue(token.isActive(participant, 1));
        assertEq(token.balanceOf(MALLORY, 1), 0);
        assertEq(studies.extractHashOf(1, participant), EXTRACT);
        // ALICE, another person, still enrolls directly beside it.
        _enroll(ALICE, 1, _proof(1));
        assertEq(studies.studyOf(1).participantCount, 2);
        // The participant then revokes through the forwarder too.
        ERC2771Forwarder.ForwardRequestData memory revokeReq =
            _signedRequest(forwarder, key, address(token), abi.encodeCall(IConsentToken.revoke, (1)));
        vm.prank(MALLORY);
        forwarder.execute(revokeReq);
        assertFalse(token.isActive(participant, 1));
        assertTrue(token.isRevoked(participant, 1));
    }

    function test_enroll_proofForAnotherStudy_reverts() public {
        _approve(1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__WrongCriteria.selector, criteriaHashes[0], criteriaHashes[1]
            )
        );
        _enroll(ALICE, 1, _proof(2));
    }

    function test_enroll_sameCriteriaOtherStudyId_reverts() public {
        uint256 id = studies.createStudy(_params(META_1, criteriaHashes[0]));
        _approve(id);
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _enroll(ALICE, id, _proof(1));
    }

    function test_enroll_tooOld_reverts() public {
        _approve(1);
        vm.warp(proofTime + 1 hours + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEligibilityVerifier.EligibilityVerifier__ProofTooOld.selector, proofTime, proofTime + 1 hours + 1
            )
        );
        _enroll(ALICE, 1, _proof(1));
    }

    function test_enroll_registryWithoutConsumerRole_reverts() public {
        StudyRegistry unapproved = new StudyRegistry(address(forwarder), verifier, token, orgs);
        unapproved.createStudy(_params(META_1, criteriaHashes[0]));
        vm.prank(IRB);
        unapproved.approve(1, RATIONALE);
        bytes32 role = verifier.CONSUMER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(unapproved), role)
        );
        vm.prank(ALICE);
        unapproved.enroll(1, _proof(1), EXTRACT);
    }

    function test_enroll_registryWithoutMinterRole_reverts() public {
        StudyRegistry unminting = new StudyRegistry(address(forwarder), verifier, token, orgs);
        bytes32 consumer = verifier.CONSUMER_ROLE();
        vm.prank(ADMIN);
        verifier.grantRole(consumer, address(unminting));
        unminting.createStudy(_params(META_1, criteriaHashes[0]));
        vm.prank(IRB);
        unminting.approve(1, RATIONALE);
        bytes32 role = token.MINTER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(unminting), role)
        );
        vm.prank(ALICE);
        unminting.enroll(1, _proof(1), EXTRACT);
    }

    function test_enroll_refusalLeavesNoTrace() public {
        _approve(1);
        vm.expectRevert(IEligibilityVerifier.EligibilityVerifier__InvalidProof.selector);
        _enroll(MALLORY, 1, _proof(1));
        assertEq(studies.enrolledAt(1, MALLORY), 0);
        assertEq(studies.extractHashOf(1, MALLORY), bytes32(0));
        assertFalse(verifier.isNullifierUsed(address(studies), nullifiers[0]));
    }
}
