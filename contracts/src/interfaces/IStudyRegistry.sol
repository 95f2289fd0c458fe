// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EligibilityProof} from "../types/EligibilityProof.sol";
import {IEligibilityVerifier} from "./IEligibilityVerifier.sol";

/// @title IStudyRegistry
/// @notice Research studies and their enrollment by zero-knowledge eligibility proof. A study names
///         its eligibility criteria by their hash (the criteria document, in the sdk's criteria
///         language, lives off chain with the metadata); a participant enrolls from the address the
///         proof is bound to, and the EligibilityVerifier spends the proof's nullifier, so one
///         person enrolls at most once per study while nothing on chain links their enrollments in
///         different studies.
/// @dev Minimal for now: anyone may create a study and it enrolls at once. IRB approval, consent
///      tokens and prices come later (issue 7) as new fields appended to Study and new checks in
///      enroll. This contract must hold the EligibilityVerifier's CONSUMER_ROLE.
interface IStudyRegistry {
    /// @notice One study as stored.
    /// @param researcher Who created it.
    /// @param createdAt Block timestamp of creation (0: no such study).
    /// @param participantCount How many addresses have enrolled.
    /// @param metadataHash Hash of the off-chain study document (protocol, consent text, the criteria JSON).
    /// @param criteriaHash The compiled criteria's hash, the proof's criteriaHash public input.
    struct Study {
        address researcher;
        uint64 createdAt;
        uint32 participantCount;
        bytes32 metadataHash;
        uint256 criteriaHash;
    }

    /// @notice A study was created.
    /// @param studyId Its id (from 1).
    /// @param researcher Who created it.
    /// @param metadataHash Hash of its document.
    /// @param criteriaHash Its criteria hash.
    event StudyCreated(uint256 indexed studyId, address indexed researcher, bytes32 metadataHash, uint256 criteriaHash);

    /// @notice An address enrolled in a study with a valid eligibility proof.
    /// @param studyId The study.
    /// @param participant The enrolling address (the proof's recipient).
    /// @param nullifier The proof's nullifier, spent for this study.
    event Enrolled(uint256 indexed studyId, address indexed participant, uint256 nullifier);

    /// @notice The eligibility verifier is the zero address.
    error StudyRegistry__ZeroVerifier();
    /// @notice The criteria hash is 0 or not below the BN254 scalar field, so no proof could match it.
    error StudyRegistry__InvalidCriteriaHash(uint256 criteriaHash);
    /// @notice There is no study with this id.
    error StudyRegistry__UnknownStudy(uint256 studyId);
    /// @notice This address is already enrolled in this study.
    error StudyRegistry__AlreadyEnrolled(uint256 studyId, address participant);
    /// @notice The study has as many participants as its counter can hold.
    error StudyRegistry__StudyFull(uint256 studyId);

    /// @notice The verifier that checks proofs and spends nullifiers for this registry.
    function eligibilityVerifier() external view returns (IEligibilityVerifier);

    /// @notice Create a study; the caller is its researcher.
    /// @param metadataHash Hash of the study document.
    /// @param criteriaHash The compiled criteria's hash; non-zero and below the field.
    /// @return studyId The new study's id (1, 2, ...).
    function createStudy(bytes32 metadataHash, uint256 criteriaHash) external returns (uint256 studyId);

    /// @notice Enroll the caller in `studyId` with an eligibility proof bound to the caller's address.
    ///         Reverts with the verifier's error when the proof is refused (unknown root, other
    ///         criteria, time out of window, nullifier spent, invalid proof).
    /// @param studyId An existing study.
    /// @param p The proof, made for this study, these criteria and recipient = msg.sender.
    function enroll(uint256 studyId, EligibilityProof calldata p) external;

    /// @notice Everything stored about a study (all zero if there is none).
    function studyOf(uint256 studyId) external view returns (Study memory);

    /// @notice How many studies exist (the last id).
    function studyCount() external view returns (uint256);

    /// @notice Whether `participant` is enrolled in `studyId`.
    function isEnrolled(uint256 studyId, address participant) external view returns (bool);

    /// @notice When `participant` enrolled in `studyId` (block timestamp), or 0.
    function enrolledAt(uint256 studyId, address participant) external view returns (uint256);
}
