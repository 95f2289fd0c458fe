// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EligibilityProof} from "../types/EligibilityProof.sol";
import {IConsentToken} from "./IConsentToken.sol";
import {IEligibilityVerifier} from "./IEligibilityVerifier.sol";
import {IOrganizationRegistry} from "./IOrganizationRegistry.sol";

/// @title IStudyRegistry
/// @notice Research studies, their review by accredited IRBs, and enrollment by zero-knowledge
///         eligibility proof. A researcher registers a study (its protocol and consent text and
///         the study document stored content-addressed off chain, their hashes here; the data
///         categories wanted; the eligibility criteria hash; a price per participant in an ERC-20
///         token; the consent duration; the minimum cohort k and the maximum number of
///         participants). It is Pending until an accredited IRB approves or rejects it with a
///         rationale hash. Only Approved studies enroll. The researcher may pause, resume or close
///         it; an IRB may suspend it.
///
///         Enrollment is from the participant's fresh per-study address, directly or relayed
///         through the trusted ERC-2771 forwarder (the participant is then the request's signer):
///         the EligibilityVerifier checks the proof (bound to that address) and spends its
///         nullifier, so one person enrolls at most once per study; the ConsentToken of the study
///         is minted to the participant, active for the study's consent duration; and the hash of
///         the participant's sealed de-identified extract is recorded.
///
///         Status machine: Pending -> Approved | Rejected (IRB); Pending -> Closed (researcher);
///         Approved <-> Paused (researcher); Approved | Paused -> Closed (researcher);
///         Approved | Paused -> Suspended (IRB). Rejected, Closed and Suspended are final.
/// @dev This contract must hold the EligibilityVerifier's CONSUMER_ROLE and the ConsentToken's MINTER_ROLE.
interface IStudyRegistry {
    /// @notice Where a study stands. Stored as a uint8; new values only ever appended.
    enum Status {
        Pending, // 0: registered, awaiting an IRB decision
        Approved, // 1: approved and open: enrolls
        Rejected, // 2: refused by an IRB (final)
        Paused, // 3: paused by its researcher; resumes to Approved
        Closed, // 4: closed by its researcher (final)
        Suspended // 5: suspended by an IRB (final)
    }

    /// @notice What a researcher gives to register a study.
    /// @param metadataHash Hash of the study document (title, summary, the criteria JSON) the apps display.
    /// @param protocolHash Content hash of the study protocol.
    /// @param consentHash Content hash of the consent text participants agree to.
    /// @param criteriaHash The compiled criteria's hash (the proof's public input); non-zero, below the BN254 field.
    /// @param categories Bitmask of the record categories wanted in the extract (bit i = category i).
    /// @param paymentToken The ERC-20 the study's access is sold in (zero only when the price is 0).
    /// @param pricePerParticipant Price of one purchase per active participant, in the token's units.
    /// @param consentDuration How long a consent lasts from enrollment, in seconds; non-zero.
    /// @param minCohort k: no purchase below this many active participants; at least 1.
    /// @param maxParticipants At most this many enrollments; at least minCohort.
    struct StudyParams {
        bytes32 metadataHash;
        bytes32 protocolHash;
        bytes32 consentHash;
        uint256 criteriaHash;
        uint256 categories;
        address paymentToken;
        uint256 pricePerParticipant;
        uint64 consentDuration;
        uint32 minCohort;
        uint32 maxParticipants;
    }

    /// @notice One study as stored (all zero if there is none: createdAt 0).
    /// @param researcher Who registered it.
    /// @param status Where it stands.
    /// @param createdAt Block timestamp of registration.
    /// @param participantCount How many addresses have enrolled (revocations do not decrease it).
    /// @param minCohort k, the minimum active cohort of a purchase.
    /// @param maxParticipants The most enrollments allowed.
    /// @param consentDuration Seconds a consent lasts from enrollment.
    /// @param paymentToken The ERC-20 its access is sold in.
    /// @param irb The IRB that decided (zero while Pending).
    /// @param decidedAt When the IRB decided (0 while Pending).
    /// @param pricePerParticipant Price per active participant per purchase.
    /// @param categories Bitmask of the record categories wanted.
    /// @param metadataHash Hash of the study document.
    /// @param protocolHash Hash of the protocol.
    /// @param consentHash Hash of the consent text.
    /// @param criteriaHash The compiled criteria's hash.
    struct Study {
        address researcher;
        Status status;
        uint64 createdAt;
        uint32 participantCount;
        uint32 minCohort;
        uint32 maxParticipants;
        uint64 consentDuration;
        address paymentToken;
        address irb;
        uint64 decidedAt;
        uint256 pricePerParticipant;
        uint256 categories;
        bytes32 metadataHash;
        bytes32 protocolHash;
        bytes32 consentHash;
        uint256 criteriaHash;
    }

    /// @notice A study was registered (Pending).
    /// @param studyId Its id (from 1).
    /// @param researcher Who registered it.
    /// @param params Everything it was registered with.
    event StudyCreated(uint256 indexed studyId, address indexed researcher, StudyParams params);

    /// @notice An IRB approved or rejected a pending study.
    /// @param studyId The study.
    /// @param irb The deciding IRB.
    /// @param approved True: Approved; false: Rejected.
    /// @param rationaleHash Hash of the IRB's written rationale.
    event StudyDecided(uint256 indexed studyId, address indexed irb, bool approved, bytes32 rationaleHash);

    /// @notice An IRB suspended a study.
    /// @param studyId The study.
    /// @param irb The suspending IRB.
    /// @param rationaleHash Hash of the IRB's written rationale.
    event StudySuspended(uint256 indexed studyId, address indexed irb, bytes32 rationaleHash);

    /// @notice A study's status changed (every change, decisions included).
    /// @param studyId The study.
    /// @param from The status before.
    /// @param to The status after.
    event StudyStatusChanged(uint256 indexed studyId, Status from, Status to);

    /// @notice A participant enrolled with a valid eligibility proof and was minted the study's consent token.
    /// @param studyId The study.
    /// @param participant The enrolling per-study address (the proof's recipient).
    /// @param nullifier The proof's nullifier, spent for this study.
    /// @param extractHash Hash of the participant's sealed de-identified extract (0: none).
    /// @param expiresAt When the consent expires.
    event Enrolled(
        uint256 indexed studyId, address indexed participant, uint256 nullifier, bytes32 extractHash, uint64 expiresAt
    );

    /// @notice A constructor address (verifier, consent token, organisation registry) is zero.
    error StudyRegistry__ZeroAddress();
    /// @notice The criteria hash is 0 or not below the BN254 scalar field, so no proof could match it.
    error StudyRegistry__InvalidCriteriaHash(uint256 criteriaHash);
    /// @notice The consent duration is 0.
    error StudyRegistry__ZeroConsentDuration();
    /// @notice minCohort is 0 or maxParticipants is below it.
    error StudyRegistry__InvalidCohort(uint32 minCohort, uint32 maxParticipants);
    /// @notice A non-zero price needs a payment token.
    error StudyRegistry__PriceWithoutToken();
    /// @notice There is no study with this id.
    error StudyRegistry__UnknownStudy(uint256 studyId);
    /// @notice The caller is not an accredited organisation of kind IRB.
    error StudyRegistry__NotIrb(address caller);
    /// @notice The caller is not the study's researcher.
    error StudyRegistry__NotResearcher(uint256 studyId, address caller);
    /// @notice The study's status does not allow this (enrollment needs Approved).
    error StudyRegistry__WrongStatus(uint256 studyId, Status status);
    /// @notice This address is already enrolled in this study.
    error StudyRegistry__AlreadyEnrolled(uint256 studyId, address participant);
    /// @notice The study has its maximum number of participants.
    error StudyRegistry__StudyFull(uint256 studyId);

    /// @notice The verifier that checks proofs and spends nullifiers for this registry.
    function eligibilityVerifier() external view returns (IEligibilityVerifier);

    /// @notice The consent token minted on enrollment.
    function consentToken() external view returns (IConsentToken);

    /// @notice The registry whose accredited IRBs decide studies.
    function organizationRegistry() external view returns (IOrganizationRegistry);

    /// @notice Register a study; the caller (ERC-2771 aware) is its researcher; it is Pending.
    /// @param params What the study is; see StudyParams for the checks.
    /// @return studyId The new study's id (1, 2, ...).
    function createStudy(StudyParams calldata params) external returns (uint256 studyId);

    /// @notice Approve a pending study (it opens for enrollment). Accredited IRBs only.
    function approve(uint256 studyId, bytes32 rationaleHash) external;

    /// @notice Reject a pending study (final). Accredited IRBs only.
    function reject(uint256 studyId, bytes32 rationaleHash) external;

    /// @notice Suspend an approved or paused study (final). Accredited IRBs only.
    function suspend(uint256 studyId, bytes32 rationaleHash) external;

    /// @notice Pause an approved study (no enrollment until resumed). Its researcher only.
    function pause(uint256 studyId) external;

    /// @notice Resume a paused study. Its researcher only.
    function resume(uint256 studyId) external;

    /// @notice Close a pending, approved or paused study (final). Its researcher only.
    function close(uint256 studyId) external;

    /// @notice Enroll the caller (the ERC-2771 signer when relayed by the trusted forwarder) in an
    ///         approved study with an eligibility proof bound to the caller's address; mints it the
    ///         study's consent token, active for the consent duration. Reverts with the verifier's
    ///         error when the proof is refused (unknown root, other criteria, time out of window,
    ///         nullifier spent, invalid proof).
    /// @param studyId An approved study with room left.
    /// @param p The proof, made for this study, these criteria and recipient = the caller.
    /// @param extractHash Hash of the caller's sealed de-identified extract (0 when there is none).
    function enroll(uint256 studyId, EligibilityProof calldata p, bytes32 extractHash) external;

    /// @notice Everything stored about a study (all zero if there is none).
    function studyOf(uint256 studyId) external view returns (Study memory);

    /// @notice A study's status (Pending, the zero value, for an unknown id: check createdAt).
    function statusOf(uint256 studyId) external view returns (Status);

    /// @notice How many studies exist (the last id).
    function studyCount() external view returns (uint256);

    /// @notice Whether `account` is currently an accredited IRB.
    function isIrb(address account) external view returns (bool);

    /// @notice Whether `participant` is enrolled in `studyId` (ever; see ConsentToken.isActive for now).
    function isEnrolled(uint256 studyId, address participant) external view returns (bool);

    /// @notice When `participant` enrolled in `studyId` (block timestamp), or 0.
    function enrolledAt(uint256 studyId, address participant) external view returns (uint256);

    /// @notice The sealed extract hash `participant` registered when enrolling in `studyId` (0 if none).
    function extractHashOf(uint256 studyId, address participant) external view returns (bytes32);
}
