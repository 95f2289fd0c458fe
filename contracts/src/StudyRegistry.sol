// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IEligibilityVerifier} from "./interfaces/IEligibilityVerifier.sol";
import {IStudyRegistry} from "./interfaces/IStudyRegistry.sol";
import {SnarkField} from "./libraries/SnarkField.sol";
import {EligibilityProof} from "./types/EligibilityProof.sol";

/// @title StudyRegistry
/// @notice Studies with hashed eligibility criteria, enrolled by zero-knowledge proof.
contract StudyRegistry is IStudyRegistry {
    /// @inheritdoc IStudyRegistry
    IEligibilityVerifier public immutable eligibilityVerifier;

    uint256 private _studyCount;
    mapping(uint256 studyId => Study) private _studies;
    mapping(uint256 studyId => mapping(address participant => uint256 timestamp)) private _enrolledAt;

    /// @param verifier The EligibilityVerifier; this registry must be granted its CONSUMER_ROLE.
    constructor(IEligibilityVerifier verifier) {
        if (address(verifier) == address(0)) revert StudyRegistry__ZeroVerifier();
        eligibilityVerifier = verifier;
    }

    /// @inheritdoc IStudyRegistry
    function createStudy(bytes32 metadataHash, uint256 criteriaHash) external returns (uint256 studyId) {
        if (criteriaHash == 0 || criteriaHash >= SnarkField.MODULUS) {
            revert StudyRegistry__InvalidCriteriaHash(criteriaHash);
        }
        // Cannot overflow: one increment per transaction.
        unchecked {
            studyId = ++_studyCount;
        }
        _studies[studyId] = Study({
            researcher: msg.sender,
            createdAt: uint64(block.timestamp),
            participantCount: 0,
            metadataHash: metadataHash,
            criteriaHash: criteriaHash
        });
        emit StudyCreated(studyId, msg.sender, metadataHash, criteriaHash);
    }

    /// @inheritdoc IStudyRegistry
    function enroll(uint256 studyId, EligibilityProof calldata p) external {
        Study storage study = _studies[studyId];
        if (study.createdAt == 0) revert StudyRegistry__UnknownStudy(studyId);
        if (_enrolledAt[studyId][msg.sender] != 0) revert StudyRegistry__AlreadyEnrolled(studyId, msg.sender);
        if (study.participantCount == type(uint32).max) revert StudyRegistry__StudyFull(studyId);
        _enrolledAt[studyId][msg.sender] = block.timestamp;
        // Cannot overflow: checked against the maximum just above.
        unchecked {
            ++study.participantCount;
        }
        // The verifier is our own immutable dependency; it reverts on any refusal, undoing the above.
        eligibilityVerifier.consume(studyId, study.criteriaHash, msg.sender, p);
        emit Enrolled(studyId, msg.sender, p.nullifier);
    }

    /// @inheritdoc IStudyRegistry
    function studyOf(uint256 studyId) external view returns (Study memory) {
        return _studies[studyId];
    }

    /// @inheritdoc IStudyRegistry
    function studyCount() external view returns (uint256) {
        return _studyCount;
    }

    /// @inheritdoc IStudyRegistry
    function isEnrolled(uint256 studyId, address participant) external view returns (bool) {
        return _enrolledAt[studyId][participant] != 0;
    }

    /// @inheritdoc IStudyRegistry
    function enrolledAt(uint256 studyId, address participant) external view returns (uint256) {
        return _enrolledAt[studyId][participant];
    }
}
