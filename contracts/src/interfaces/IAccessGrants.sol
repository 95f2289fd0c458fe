// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOrganizationRegistry} from "./IOrganizationRegistry.sol";

/// @title IAccessGrants
/// @notice Clinical access to a patient's records. An accredited organisation asks a registered
///         patient for some record categories, for a purpose and a duration; the patient approves
///         (the same categories or fewer, for the same time or less), denies, and later revokes.
///         The release committee releases a record's data key to a grantee only while
///         `isLive(patient, grantee, category)` holds.
///
///         Patients set a policy the contract enforces: never-share categories, which no request
///         may ask for, no approval may include and no grant or break-glass window ever makes live;
///         and banned organisation kinds (for example insurers), whose requests revert, so the
///         patient never sees them.
///
///         Break-glass: an accredited emergency provider opens the patient's emergency profile
///         (medications, allergies, conditions, demographics) for a short window, with a reason
///         hash, without asking first. It is an event the patient is shown, and the patient can
///         close the window at once. A patient who bans the EmergencyProvider kind opts out.
/// @dev Categories are a uint16 bitmask, bit i = the i-th category of the sdk's CATEGORIES (see
///      CategoryMask): 0 labs, 1 medications, 2 allergies, 3 conditions, 4 procedures, 5 imaging,
///      6 immunizations, 7 notes, 8 mental-health, 9 substance-use, 10 genomics, 11 demographics,
///      12 other. Banned kinds are a uint8 bitmask, bit i = IOrganizationRegistry.Kind(i).
///      There is at most one grant per (patient, grantee): approving a newer request replaces it.
///      Everything is judged by block time: a grant is live while block.timestamp < expiresAt.
///      `patient` is always the patient's account (the address that registered in the PatientRegistry).
///      The patient acts through the wallet that controls the account now
///      (PatientRegistry.accountOf(msg.sender)), so after a guardian recovery the new wallet approves,
///      denies, revokes, sets the policy and closes windows for the same account, and the old one cannot.
interface IAccessGrants {
    /// @notice Why the requester wants access: HL7 v3 PurposeOfUse codes
    ///         (terminology.hl7.org/CodeSystem/v3-ActReason), stored as a uint8, the position
    ///         here. New codes are only ever appended, so the numbers never change.
    enum Purpose {
        TREAT, // 0: treatment
        ETREAT, // 1: emergency treatment (also the purpose of every break-glass window)
        HPAYMT, // 2: healthcare payment
        HOPERAT, // 3: healthcare operations
        HRESCH, // 4: healthcare research
        PUBHLTH, // 5: public health
        PATRQT, // 6: patient requested
        HLEGAL // 7: legal
    }

    /// @notice Where a request stands. None means no such request.
    enum RequestStatus {
        None,
        Pending,
        Approved,
        Denied,
        Cancelled
    }

    /// @notice A request as stored.
    /// @param patient Whose records are asked for.
    /// @param categories Category bitmask asked for.
    /// @param purpose Why.
    /// @param duration For how long a grant would last, in seconds from approval.
    /// @param status Where it stands.
    /// @param requester The organisation asking.
    /// @param createdAt Block timestamp of the request.
    struct Request {
        address patient;
        uint16 categories;
        Purpose purpose;
        uint32 duration;
        RequestStatus status;
        address requester;
        uint64 createdAt;
    }

    /// @notice The grant of one patient to one grantee (all zero if none).
    /// @param categories Category bitmask granted.
    /// @param purpose The purpose of the approved request.
    /// @param grantedAt Block timestamp of the approval.
    /// @param expiresAt Block timestamp from which the grant is no longer live.
    /// @param requestId The approved request.
    struct Grant {
        uint16 categories;
        Purpose purpose;
        uint64 grantedAt;
        uint64 expiresAt;
        uint64 requestId;
    }

    /// @notice A break-glass window of one emergency provider on one patient (all zero if none).
    /// @param categories The categories it opens (the emergency profile less never-share ones).
    /// @param openedAt Block timestamp at which it was opened.
    /// @param expiresAt Block timestamp from which it is closed.
    struct BreakGlass {
        uint16 categories;
        uint64 openedAt;
        uint64 expiresAt;
    }

    /// @notice A patient's sharing policy.
    /// @param neverShare Categories never shared with anyone, break-glass included.
    /// @param bannedKinds Organisation kinds (bit i = Kind(i)) that may never ask or be granted.
    struct Policy {
        uint16 neverShare;
        uint8 bannedKinds;
    }

    /// @notice An organisation asked a patient for access.
    /// @param requestId Sequential id, from 1.
    /// @param patient Whose records.
    /// @param requester The organisation asking.
    /// @param categories Category bitmask asked for.
    /// @param purpose Why (HL7 PurposeOfUse, see Purpose).
    /// @param duration Seconds a grant would last from approval.
    event RequestCreated(
        uint256 indexed requestId,
        address indexed patient,
        address indexed requester,
        uint16 categories,
        Purpose purpose,
        uint32 duration
    );

    /// @notice The patient approved a request: `grantee` may now see `categories` until `expiresAt`.
    ///         Replaces any earlier grant of this patient to this grantee.
    /// @param requestId The request approved.
    /// @param patient Whose records.
    /// @param grantee The requester, now grantee.
    /// @param categories Category bitmask granted (a subset of the request's).
    /// @param purpose The request's purpose.
    /// @param expiresAt Block timestamp from which the grant is no longer live.
    event RequestApproved(
        uint256 indexed requestId,
        address indexed patient,
        address indexed grantee,
        uint16 categories,
        Purpose purpose,
        uint64 expiresAt
    );

    /// @notice The patient denied a request.
    event RequestDenied(uint256 indexed requestId, address indexed patient, address indexed requester);

    /// @notice The requester withdrew a pending request.
    event RequestCancelled(uint256 indexed requestId, address indexed patient, address indexed requester);

    /// @notice The patient revoked a grant; it is not live from this block on.
    /// @param patient Whose records.
    /// @param grantee Who loses access.
    /// @param requestId The request whose approval made the grant.
    event GrantRevoked(address indexed patient, address indexed grantee, uint256 indexed requestId);

    /// @notice A patient set their policy (the whole policy; it replaces the previous one).
    /// @param patient The patient.
    /// @param neverShare Category bitmask never shared.
    /// @param bannedKinds Organisation-kind bitmask never allowed (bit i = Kind(i)).
    event PolicyUpdated(address indexed patient, uint16 neverShare, uint8 bannedKinds);

    /// @notice An emergency provider broke glass on a patient's records.
    /// @param patient Whose records.
    /// @param provider The accredited emergency provider.
    /// @param categories The categories opened.
    /// @param expiresAt Block timestamp from which the window is closed.
    /// @param reasonHash Hash of the stated reason, kept off chain for audit.
    event BreakGlassOpened(
        address indexed patient, address indexed provider, uint16 categories, uint64 expiresAt, bytes32 reasonHash
    );

    /// @notice A break-glass window was closed before it expired.
    /// @param patient Whose records.
    /// @param provider Whose window.
    /// @param closedBy The patient or the provider.
    event BreakGlassClosed(address indexed patient, address indexed provider, address indexed closedBy);

    /// @notice A constructor address is zero.
    error AccessGrants__ZeroAddress();
    /// @notice The patient is not registered in the PatientRegistry (or, when `patient` is the caller, the
    ///         caller controls no patient account).
    error AccessGrants__PatientNotRegistered(address patient);
    /// @notice The organisation is not registered or not accredited now.
    error AccessGrants__NotAccredited(address org);
    /// @notice The patient's policy bans organisations of this kind.
    error AccessGrants__KindBanned(address patient, IOrganizationRegistry.Kind kind);
    /// @notice The categories include some the patient never shares (`blocked` = the overlap).
    error AccessGrants__NeverShared(address patient, uint16 blocked);
    /// @notice The category bitmask is empty or has bits beyond the known categories.
    error AccessGrants__InvalidCategories(uint16 categories);
    /// @notice The banned-kinds bitmask has bits beyond the known kinds.
    error AccessGrants__InvalidKinds(uint8 bannedKinds);
    /// @notice The duration is zero or above `max`.
    error AccessGrants__InvalidDuration(uint32 duration, uint32 max);
    /// @notice No request has this id.
    error AccessGrants__UnknownRequest(uint256 requestId);
    /// @notice Only the request's patient (or, to cancel, its requester) may do this.
    error AccessGrants__Unauthorized(uint256 requestId, address caller);
    /// @notice The request was already answered or cancelled.
    error AccessGrants__NotPending(uint256 requestId, RequestStatus status);
    /// @notice An approval may only narrow: `approved` has categories the request did not ask for.
    error AccessGrants__NotSubset(uint16 approved, uint16 requested);
    /// @notice An approval may only shorten: `approved` is longer than the `requested` duration.
    error AccessGrants__DurationTooLong(uint32 approved, uint32 requested);
    /// @notice The patient has no grant to this grantee.
    error AccessGrants__NoGrant(address patient, address grantee);
    /// @notice Only accredited organisations of kind EmergencyProvider may break glass.
    error AccessGrants__NotEmergencyProvider(address caller);
    /// @notice Break-glass needs a reason hash.
    error AccessGrants__ZeroReason();
    /// @notice The patient never shares any emergency category, so break-glass has nothing to open.
    error AccessGrants__NothingToOpen(address patient);
    /// @notice There is no open break-glass window of this provider on this patient.
    error AccessGrants__NoBreakGlass(address patient, address provider);
    /// @notice Only the patient or the provider may close a break-glass window.
    error AccessGrants__NotPatientOrProvider(address caller);

    /// @notice Ask `patient` for `categories` for `purpose`, for `duration` seconds from approval.
    ///         The caller must be an accredited organisation. Reverts if the patient's policy bans
    ///         the caller's kind or never shares one of the categories.
    /// @param patient A registered patient.
    /// @param categories Non-empty category bitmask of known categories.
    /// @param purpose Why (HL7 PurposeOfUse).
    /// @param duration Seconds, 1 to MAX_GRANT_DURATION.
    /// @return requestId The new request's id.
    function requestAccess(address patient, uint16 categories, Purpose purpose, uint32 duration)
        external
        returns (uint256 requestId);

    /// @notice Approve a pending request of which the caller controls the patient account, for `categories` (a
    ///         non-empty subset of those asked) and `duration` (at most that asked). The grant
    ///         expires `duration` seconds from now and replaces any earlier grant to the requester.
    ///         Reverts if the categories include never-share ones, or if the requester is no longer
    ///         accredited or its kind is now banned.
    function approve(uint256 requestId, uint16 categories, uint32 duration) external;

    /// @notice Deny a pending request of which the caller controls the patient account.
    function deny(uint256 requestId) external;

    /// @notice Withdraw a pending request of which the caller is the requester.
    function cancelRequest(uint256 requestId) external;

    /// @notice Revoke the grant of the account the caller controls to `grantee`, live or expired; not live
    ///         from this block on.
    function revoke(address grantee) external;

    /// @notice Set the policy of the account the caller controls, replacing the previous one.
    ///         It applies at once: no existing grant or window is live for never-share categories or
    ///         for organisations of a banned kind.
    /// @param neverShare Category bitmask never shared (0 for none).
    /// @param bannedKinds Organisation-kind bitmask never allowed (0 for none).
    function setPolicy(uint16 neverShare, uint8 bannedKinds) external;

    /// @notice Break glass: open `patient`'s emergency categories (less their never-share ones) to the
    ///         caller, an accredited EmergencyProvider, for `duration` seconds (0 for the default).
    ///         Opening again while a window is open replaces it (and is logged again).
    /// @param patient A registered patient who does not ban the EmergencyProvider kind.
    /// @param reasonHash Hash of the stated reason (kept off chain), not zero.
    /// @param duration 0 for DEFAULT_BREAK_GLASS_DURATION, else at most MAX_BREAK_GLASS_DURATION.
    /// @return expiresAt Block timestamp from which the window is closed.
    function breakGlass(address patient, bytes32 reasonHash, uint32 duration) external returns (uint64 expiresAt);

    /// @notice Close an open break-glass window at once; by the wallet controlling the patient account, or
    ///         the provider.
    function closeBreakGlass(address patient, address provider) external;

    /// @notice Whether `grantee` may see `patient`'s records of `category` now: an unexpired grant or
    ///         break-glass window covers it, the patient does not never-share it, and the grantee is
    ///         accredited and of a kind the patient does not ban.
    /// @param category The category's bit number (0 to 12); false for any other.
    function isLive(address patient, address grantee, uint8 category) external view returns (bool);

    /// @notice Every category `grantee` may see of `patient`'s records now, as a bitmask (see isLive).
    function liveCategories(address patient, address grantee) external view returns (uint16);

    /// @notice A request by id; reverts if there is none.
    function requestOf(uint256 requestId) external view returns (Request memory);

    /// @notice The grant of `patient` to `grantee` as stored (expired ones too; all zero if none).
    function grantOf(address patient, address grantee) external view returns (Grant memory);

    /// @notice The last break-glass window of `provider` on `patient` as stored (all zero if none).
    function breakGlassOf(address patient, address provider) external view returns (BreakGlass memory);

    /// @notice The policy of `patient` (all zero if never set).
    function policyOf(address patient) external view returns (Policy memory);

    /// @notice Number of requests made so far (the last request id).
    function requestCount() external view returns (uint256);

    /// @notice The PatientRegistry patients are checked against.
    function patientRegistry() external view returns (address);

    /// @notice The OrganizationRegistry organisations are checked against.
    function organizationRegistry() external view returns (address);

    /// @notice The emergency profile break-glass opens, as a category bitmask.
    function EMERGENCY_CATEGORIES() external view returns (uint16);

    /// @notice The longest grant a request may ask for, in seconds.
    function MAX_GRANT_DURATION() external view returns (uint32);

    /// @notice How long a break-glass window lasts when no duration is given, in seconds.
    function DEFAULT_BREAK_GLASS_DURATION() external view returns (uint32);

    /// @notice The longest break-glass window, in seconds.
    function MAX_BREAK_GLASS_DURATION() external view returns (uint32);
}
