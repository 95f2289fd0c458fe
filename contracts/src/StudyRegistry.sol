// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IConsentToken} from "./interfaces/IConsentToken.sol";
import {IEligibilityVerifier} from "./interfaces/IEligibilityVerifier.sol";
import {IOrganizationRegistry} from "./interfaces/IOrganizationRegistry.sol";
import {IStudyRegistry} from "./interfaces/IStudyRegistry.sol";
import {SnarkField} from "./libraries/SnarkField.sol";
import {EligibilityProof} from "./types/EligibilityProof.sol";

/// @title StudyRegistry
/// @notice Studies reviewed by accredited IRBs, enrolled by zero-knowledge proof, consent as a token.
contract StudyRegistry is IStudyRegistry, ERC2771Context {
    /// @inheritdoc IStudyRegistry
    IEligibilityVerifier public immutable eligibilityVerifier;
    /// @inheritdoc IStudyRegistry
    IConsentToken public immutable consentToken;
    /// @inheritdoc IStudyRegistry
    IOrganizationRegistry public immutable organizationRegistry;

    uint256 private _studyCount;
    mapping(uint256 studyId => Study) private _studies;
    mapping(uint256 studyId => mapping(address participant => uint256 timestamp)) private _enrolledAt;
    mapping(uint256 studyId => mapping(address participant => bytes32 extractHash)) private _extractHash;

    /// @param trustedForwarder The ERC2771Forwarder relaying gasless enrollments (zero: none).
    /// @param verifier The EligibilityVerifier; this registry must be granted its CONSUMER_ROLE.
    /// @param token The ConsentToken; this registry must be granted its MINTER_ROLE.
    /// @param organizations The OrganizationRegistry whose accredited IRBs decide studies.
    constructor(
        address trustedForwarder,
        IEligibilityVerifier verifier,
        IConsentToken token,
        IOrganizationRegistry organizations
    ) ERC2771Context(trustedForwarder) {
        if (address(verifier) == address(0) || address(token) == address(0) || address(organizations) == address(0)) {
            revert StudyRegistry__ZeroAddress();
        }
        eligibilityVerifier = verifier;
        consentToken = token;
        organizationRegistry = organizations;
    }

    modifier onlyIrb() {
        if (!isIrb(_msgSender())) revert StudyRegistry__NotIrb(_msgSender());
        _;
    }

    /// @inheritdoc IStudyRegistry
    function createStudy(StudyParams calldata params) external returns (uint256 studyId) {
        if (params.criteriaHash == 0 || params.criteriaHash >= SnarkField.MODULUS) {
            revert StudyRegistry__InvalidCriteriaHash(params.criteriaHash);
        }
        if (params.consentDuration == 0) revert StudyRegistry__ZeroConsentDuration();
        if (params.minCohort == 0 || params.maxParticipants < params.minCohort) {
            revert StudyRegistry__InvalidCohort(params.minCohort, params.maxParticipants);
        }
        if (params.pricePerParticipant != 0 && params.paymentToken == address(0)) {
            revert StudyRegistry__PriceWithoutToken();
        }
        // Cannot overflow: one increment per transaction.
        unchecked {
            studyId = ++_studyCount;
        }
        address researcher = _msgSender();
        _studies[studyId] = Study({
            researcher: researcher,
            status: Status.Pending,
            createdAt: uint64(block.timestamp),
            participantCount: 0,
            minCohort: params.minCohort,
            maxParticipants: params.maxParticipants,
            consentDuration: params.consentDuration,
            paymentToken: params.paymentToken,
            irb: address(0),
            decidedAt: 0,
            pricePerParticipant: params.pricePerParticipant,
            categories: params.categories,
            metadataHash: params.metadataHash,
            protocolHash: params.protocolHash,
            consentHash: params.consentHash,
            criteriaHash: params.criteriaHash
        });
        emit StudyCreated(studyId, researcher, params);
    }

    /// @inheritdoc IStudyRegistry
    function approve(uint256 studyId, bytes32 rationaleHash) external onlyIrb {
        _decide(studyId, true, rationaleHash);
    }

    /// @inheritdoc IStudyRegistry
    function reject(uint256 studyId, bytes32 rationaleHash) external onlyIrb {
        _decide(studyId, false, rationaleHash);
    }

    /// @inheritdoc IStudyRegistry
    function suspend(uint256 studyId, bytes32 rationaleHash) external onlyIrb {
        Study storage study = _existing(studyId);
        Status from = study.status;
        if (from != Status.Approved && from != Status.Paused) revert StudyRegistry__WrongStatus(studyId, from);
        study.status = Status.Suspended;
        emit StudySuspended(studyId, _msgSender(), rationaleHash);
        emit StudyStatusChanged(studyId, from, Status.Suspended);
    }

    /// @inheritdoc IStudyRegistry
    function pause(uint256 studyId) external {
        _researcherMove(studyId, Status.Approved, Status.Paused);
    }

    /// @inheritdoc IStudyRegistry
    function resume(uint256 studyId) external {
        _researcherMove(studyId, Status.Paused, Status.Approved);
    }

    /// @inheritdoc IStudyRegistry
    function close(uint256 studyId) external {
        Study storage study = _ownStudy(studyId);
        Status from = study.status;
        if (from != Status.Pending && from != Status.Approved && from != Status.Paused) {
            revert StudyRegistry__WrongStatus(studyId, from);
        }
        study.status = Status.Closed;
        emit StudyStatusChanged(studyId, from, Status.Closed);
    }

    /// @inheritdoc IStudyRegistry
    function enroll(uint256 studyId, EligibilityProof calldata p, bytes32 extractHash) external {
        Study storage study = _existing(studyId);
        if (study.status != Status.Approved) revert StudyRegistry__WrongStatus(studyId, study.status);
        address participant = _msgSender();
        if (_enrolledAt[studyId][participant] != 0) revert StudyRegistry__AlreadyEnrolled(studyId, participant);
        if (study.participantCount >= study.maxParticipants) revert StudyRegistry__StudyFull(studyId);
        _enrolledAt[studyId][participant] = block.timestamp;
        _extractHash[studyId][participant] = extractHash;
        // Cannot overflow: below maxParticipants, a uint32, just above.
        unchecked {
            ++study.participantCount;
        }
        // Cannot overflow for any real time: a uint64 of seconds plus a uint64 duration fits in 2^65,
        // and the sum is narrowed only after a checked comparison.
        uint256 expiry = block.timestamp + study.consentDuration;
        uint64 expiresAt = expiry > type(uint64).max ? type(uint64).max : uint64(expiry);
        // Both are our own immutable dependencies; they revert on any refusal, undoing the above.
        eligibilityVerifier.consume(studyId, study.criteriaHash, participant, p);
        consentToken.mint(participant, studyId, expiresAt);
        emit Enrolled(studyId, participant, p.nullifier, extractHash, expiresAt);
    }

    /// @inheritdoc IStudyRegistry
    function studyOf(uint256 studyId) external view returns (Study memory) {
        return _studies[studyId];
    }

    /// @inheritdoc IStudyRegistry
    function statusOf(uint256 studyId) external view returns (Status) {
        return _studies[studyId].status;
    }

    /// @inheritdoc IStudyRegistry
    function studyCount() external view returns (uint256) {
        return _studyCount;
    }

    /// @inheritdoc IStudyRegistry
    function isIrb(address account) public view returns (bool) {
        IOrganizationRegistry orgs = organizationRegistry;
        // An unregistered address reads as kind 0 (Provider), so this needs no isRegistered call.
        return orgs.organizationOf(account).kind == IOrganizationRegistry.Kind.IRB && orgs.isAccredited(account);
    }

    /// @inheritdoc IStudyRegistry
    function isEnrolled(uint256 studyId, address participant) external view returns (bool) {
        return _enrolledAt[studyId][participant] != 0;
    }

    /// @inheritdoc IStudyRegistry
    function enrolledAt(uint256 studyId, address participant) external view returns (uint256) {
        return _enrolledAt[studyId][participant];
    }

    /// @inheritdoc IStudyRegistry
    function extractHashOf(uint256 studyId, address participant) external view returns (bytes32) {
        return _extractHash[studyId][participant];
    }

    function _decide(uint256 studyId, bool approved, bytes32 rationaleHash) private {
        Study storage study = _existing(studyId);
        if (study.status != Status.Pending) revert StudyRegistry__WrongStatus(studyId, study.status);
        Status to = approved ? Status.Approved : Status.Rejected;
        address irb = _msgSender();
        study.status = to;
        study.irb = irb;
        study.decidedAt = uint64(block.timestamp);
        emit StudyDecided(studyId, irb, approved, rationaleHash);
        emit StudyStatusChanged(studyId, Status.Pending, to);
    }

    function _researcherMove(uint256 studyId, Status from, Status to) private {
        Study storage study = _ownStudy(studyId);
        if (study.status != from) revert StudyRegistry__WrongStatus(studyId, study.status);
        study.status = to;
        emit StudyStatusChanged(studyId, from, to);
    }

    function _existing(uint256 studyId) private view returns (Study storage study) {
        study = _studies[studyId];
        if (study.createdAt == 0) revert StudyRegistry__UnknownStudy(studyId);
    }

    function _ownStudy(uint256 studyId) private view returns (Study storage study) {
        study = _existing(studyId);
        if (study.researcher != _msgSender()) revert StudyRegistry__NotResearcher(studyId, _msgSender());
    }
}
