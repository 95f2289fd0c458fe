// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessGrants} from "./interfaces/IAccessGrants.sol";
import {IOrganizationRegistry} from "./interfaces/IOrganizationRegistry.sol";
import {IPatientRegistry} from "./interfaces/IPatientRegistry.sol";
import {CategoryMask} from "./libraries/CategoryMask.sol";

/// @title AccessGrants
/// @notice Requests, grants, patient policies and break-glass windows for clinical access.
///         One storage slot per request half, grant, window and policy.
contract AccessGrants is IAccessGrants {
    /// @inheritdoc IAccessGrants
    uint16 public constant EMERGENCY_CATEGORIES = CategoryMask.EMERGENCY;
    /// @inheritdoc IAccessGrants
    uint32 public constant MAX_GRANT_DURATION = 365 days;
    /// @inheritdoc IAccessGrants
    uint32 public constant DEFAULT_BREAK_GLASS_DURATION = 4 hours;
    /// @inheritdoc IAccessGrants
    uint32 public constant MAX_BREAK_GLASS_DURATION = 12 hours;

    /// @dev Every organisation-kind bit (Kind has 7 values).
    uint8 private constant ALL_KINDS = 0x7F;

    IPatientRegistry private immutable _patients;
    IOrganizationRegistry private immutable _organizations;

    mapping(uint256 requestId => Request) private _requests;
    mapping(address patient => mapping(address grantee => Grant)) private _grants;
    mapping(address patient => mapping(address provider => BreakGlass)) private _breakGlass;
    mapping(address patient => Policy) private _policies;
    uint64 private _requestCount;

    /// @param patients The PatientRegistry.
    /// @param organizations The OrganizationRegistry.
    constructor(IPatientRegistry patients, IOrganizationRegistry organizations) {
        if (address(patients) == address(0) || address(organizations) == address(0)) {
            revert AccessGrants__ZeroAddress();
        }
        _patients = patients;
        _organizations = organizations;
    }

    // ------------------------------------------------------------------ requests

    /// @inheritdoc IAccessGrants
    function requestAccess(address patient, uint16 categories, Purpose purpose, uint32 duration)
        external
        returns (uint256 requestId)
    {
        if (!CategoryMask.isValid(categories)) revert AccessGrants__InvalidCategories(categories);
        if (duration == 0 || duration > MAX_GRANT_DURATION) {
            revert AccessGrants__InvalidDuration(duration, MAX_GRANT_DURATION);
        }
        if (!_patients.isRegistered(patient)) revert AccessGrants__PatientNotRegistered(patient);
        Policy memory policy = _policies[patient];
        _checkOrganization(patient, policy, msg.sender);
        _checkNeverShared(patient, policy, categories);

        uint64 id;
        // Cannot overflow: 2^64 requests would take longer than the chain will exist.
        unchecked {
            id = ++_requestCount;
        }
        _requests[id] = Request({
            patient: patient,
            categories: categories,
            purpose: purpose,
            duration: duration,
            status: RequestStatus.Pending,
            requester: msg.sender,
            createdAt: uint64(block.timestamp)
        });
        emit RequestCreated(id, patient, msg.sender, categories, purpose, duration);
        return id;
    }

    /// @inheritdoc IAccessGrants
    function approve(uint256 requestId, uint16 categories, uint32 duration) external {
        (Request storage request, address patient) = _pendingOfPatient(requestId);
        uint16 requested = request.categories;
        if (categories == 0) revert AccessGrants__InvalidCategories(categories);
        if (!CategoryMask.isSubset(categories, requested)) revert AccessGrants__NotSubset(categories, requested);
        uint32 requestedDuration = request.duration;
        if (duration == 0) revert AccessGrants__InvalidDuration(duration, requestedDuration);
        if (duration > requestedDuration) revert AccessGrants__DurationTooLong(duration, requestedDuration);
        // The policy may have changed since the request: judge the approval by today's.
        Policy memory policy = _policies[patient];
        _checkNeverShared(patient, policy, categories);
        address grantee = request.requester;
        _checkOrganization(patient, policy, grantee);

        request.status = RequestStatus.Approved;
        Purpose purpose = request.purpose;
        uint64 expiresAt;
        // Cannot overflow: block.timestamp + a uint32 stays far below 2^64.
        unchecked {
            expiresAt = uint64(block.timestamp) + duration;
        }
        _grants[patient][grantee] = Grant({
            categories: categories,
            purpose: purpose,
            grantedAt: uint64(block.timestamp),
            expiresAt: expiresAt,
            // casting to 'uint64' is safe because a pending request's id is at most _requestCount (a uint64)
            // forge-lint: disable-next-line(unsafe-typecast)
            requestId: uint64(requestId)
        });
        emit RequestApproved(requestId, patient, grantee, categories, purpose, expiresAt);
    }

    /// @inheritdoc IAccessGrants
    function deny(uint256 requestId) external {
        (Request storage request, address patient) = _pendingOfPatient(requestId);
        request.status = RequestStatus.Denied;
        emit RequestDenied(requestId, patient, request.requester);
    }

    /// @inheritdoc IAccessGrants
    function cancelRequest(uint256 requestId) external {
        Request storage request = _pending(requestId);
        if (request.requester != msg.sender) revert AccessGrants__Unauthorized(requestId, msg.sender);
        request.status = RequestStatus.Cancelled;
        emit RequestCancelled(requestId, request.patient, msg.sender);
    }

    /// @inheritdoc IAccessGrants
    function revoke(address grantee) external {
        address patient = _accountOfSender();
        Grant storage grant = _grants[patient][grantee];
        uint64 requestId = grant.requestId;
        if (requestId == 0) revert AccessGrants__NoGrant(patient, grantee);
        delete _grants[patient][grantee];
        emit GrantRevoked(patient, grantee, requestId);
    }

    // ------------------------------------------------------------------ policy

    /// @inheritdoc IAccessGrants
    function setPolicy(uint16 neverShare, uint8 bannedKinds) external {
        address patient = _accountOfSender();
        if (neverShare & ~CategoryMask.ALL != 0) revert AccessGrants__InvalidCategories(neverShare);
        if (bannedKinds & ~ALL_KINDS != 0) revert AccessGrants__InvalidKinds(bannedKinds);
        _policies[patient] = Policy({neverShare: neverShare, bannedKinds: bannedKinds});
        emit PolicyUpdated(patient, neverShare, bannedKinds);
    }

    // ------------------------------------------------------------------ break-glass

    /// @inheritdoc IAccessGrants
    function breakGlass(address patient, bytes32 reasonHash, uint32 duration) external returns (uint64 expiresAt) {
        if (reasonHash == bytes32(0)) revert AccessGrants__ZeroReason();
        if (duration == 0) duration = DEFAULT_BREAK_GLASS_DURATION;
        if (duration > MAX_BREAK_GLASS_DURATION) {
            revert AccessGrants__InvalidDuration(duration, MAX_BREAK_GLASS_DURATION);
        }
        if (!_patients.isRegistered(patient)) revert AccessGrants__PatientNotRegistered(patient);
        if (!_organizations.isAccredited(msg.sender)) revert AccessGrants__NotAccredited(msg.sender);
        IOrganizationRegistry.Kind kind = _organizations.kindOf(msg.sender);
        if (kind != IOrganizationRegistry.Kind.EmergencyProvider) {
            revert AccessGrants__NotEmergencyProvider(msg.sender);
        }
        Policy memory policy = _policies[patient];
        if (_isBanned(policy, kind)) revert AccessGrants__KindBanned(patient, kind);
        uint16 categories = CategoryMask.EMERGENCY & ~policy.neverShare;
        if (categories == 0) revert AccessGrants__NothingToOpen(patient);

        // Cannot overflow: block.timestamp + a uint32 stays far below 2^64.
        unchecked {
            expiresAt = uint64(block.timestamp) + duration;
        }
        _breakGlass[patient][msg.sender] =
            BreakGlass({categories: categories, openedAt: uint64(block.timestamp), expiresAt: expiresAt});
        emit BreakGlassOpened(patient, msg.sender, categories, expiresAt, reasonHash);
    }

    /// @inheritdoc IAccessGrants
    function closeBreakGlass(address patient, address provider) external {
        // The patient closes through the wallet that controls its account now.
        if (msg.sender != provider && _patients.accountOf(msg.sender) != patient) {
            revert AccessGrants__NotPatientOrProvider(msg.sender);
        }
        if (_breakGlass[patient][provider].expiresAt <= block.timestamp) {
            revert AccessGrants__NoBreakGlass(patient, provider);
        }
        delete _breakGlass[patient][provider];
        emit BreakGlassClosed(patient, provider, msg.sender);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IAccessGrants
    function isLive(address patient, address grantee, uint8 category) external view returns (bool) {
        if (category >= CategoryMask.COUNT) return false;
        return CategoryMask.has(_liveCategories(patient, grantee), category);
    }

    /// @inheritdoc IAccessGrants
    function liveCategories(address patient, address grantee) external view returns (uint16) {
        return _liveCategories(patient, grantee);
    }

    /// @inheritdoc IAccessGrants
    function requestOf(uint256 requestId) external view returns (Request memory) {
        Request memory request = _requests[requestId];
        if (request.status == RequestStatus.None) revert AccessGrants__UnknownRequest(requestId);
        return request;
    }

    /// @inheritdoc IAccessGrants
    function grantOf(address patient, address grantee) external view returns (Grant memory) {
        return _grants[patient][grantee];
    }

    /// @inheritdoc IAccessGrants
    function breakGlassOf(address patient, address provider) external view returns (BreakGlass memory) {
        return _breakGlass[patient][provider];
    }

    /// @inheritdoc IAccessGrants
    function policyOf(address patient) external view returns (Policy memory) {
        return _policies[patient];
    }

    /// @inheritdoc IAccessGrants
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    /// @inheritdoc IAccessGrants
    function patientRegistry() external view returns (address) {
        return address(_patients);
    }

    /// @inheritdoc IAccessGrants
    function organizationRegistry() external view returns (address) {
        return address(_organizations);
    }

    // ------------------------------------------------------------------ internals

    function _liveCategories(address patient, address grantee) private view returns (uint16 live) {
        Grant memory grant = _grants[patient][grantee];
        if (block.timestamp < grant.expiresAt) live = grant.categories;
        BreakGlass memory window = _breakGlass[patient][grantee];
        if (block.timestamp < window.expiresAt) live |= window.categories;
        if (live == 0) return 0;
        Policy memory policy = _policies[patient];
        live &= ~policy.neverShare;
        if (live == 0) return 0;
        if (!_organizations.isAccredited(grantee)) return 0;
        if (_isBanned(policy, _organizations.kindOf(grantee))) return 0;
    }

    /// @dev Reverts unless `org` is accredited now and of a kind `policy` does not ban.
    function _checkOrganization(address patient, Policy memory policy, address org) private view {
        if (!_organizations.isAccredited(org)) revert AccessGrants__NotAccredited(org);
        IOrganizationRegistry.Kind kind = _organizations.kindOf(org);
        if (_isBanned(policy, kind)) revert AccessGrants__KindBanned(patient, kind);
    }

    /// @dev Reverts if `categories` overlaps the never-share categories of `policy`.
    function _checkNeverShared(address patient, Policy memory policy, uint16 categories) private pure {
        uint16 blocked = categories & policy.neverShare;
        if (blocked != 0) revert AccessGrants__NeverShared(patient, blocked);
    }

    function _isBanned(Policy memory policy, IOrganizationRegistry.Kind kind) private pure returns (bool) {
        return (policy.bannedKinds >> uint8(kind)) & 1 == 1;
    }

    function _pending(uint256 requestId) private view returns (Request storage request) {
        request = _requests[requestId];
        RequestStatus status = request.status;
        if (status == RequestStatus.None) revert AccessGrants__UnknownRequest(requestId);
        if (status != RequestStatus.Pending) revert AccessGrants__NotPending(requestId, status);
    }

    /// @dev The pending request `requestId` and its patient, which must be the account msg.sender controls.
    function _pendingOfPatient(uint256 requestId) private view returns (Request storage request, address patient) {
        request = _pending(requestId);
        patient = request.patient;
        if (_patients.accountOf(msg.sender) != patient) revert AccessGrants__Unauthorized(requestId, msg.sender);
    }

    /// @dev The patient account msg.sender controls (PatientRegistry.accountOf); reverts when it controls none.
    function _accountOfSender() private view returns (address patient) {
        patient = _patients.accountOf(msg.sender);
        if (patient == address(0)) revert AccessGrants__PatientNotRegistered(msg.sender);
    }
}
