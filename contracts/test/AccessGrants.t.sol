// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {AccessGrants} from "../src/AccessGrants.sol";
import {OrganizationRegistry} from "../src/OrganizationRegistry.sol";
import {PatientRegistry} from "../src/PatientRegistry.sol";
import {IAccessGrants} from "../src/interfaces/IAccessGrants.sol";
import {IOrganizationRegistry} from "../src/interfaces/IOrganizationRegistry.sol";
import {IPatientRegistry} from "../src/interfaces/IPatientRegistry.sol";
import {CategoryMask} from "../src/libraries/CategoryMask.sol";

/// @dev Deploys the three contracts, one patient and accredited organisations of every kind used.
abstract contract AccessGrantsFixture is Test {
    PatientRegistry internal patients;
    OrganizationRegistry internal orgs;
    AccessGrants internal grants;

    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B); // never registers
    address internal constant CLINIC = address(0xC11);
    address internal constant ER = address(0xE5);
    address internal constant INSURER = address(0x1A5);
    address internal constant LAB = address(0x1AB); // a provider that stays pending
    bytes32 internal constant KEY_A = 0x8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a;
    uint64 internal constant T0 = 1_700_000_000;
    uint64 internal constant ACCREDITED_UNTIL = T0 + 730 days;

    // Category bits (sdk CATEGORIES order).
    uint8 internal constant LABS = 0;
    uint8 internal constant MEDICATIONS = 1;
    uint8 internal constant ALLERGIES = 2;
    uint8 internal constant CONDITIONS = 3;
    uint8 internal constant IMAGING = 5;
    uint8 internal constant MENTAL_HEALTH = 8;
    uint8 internal constant DEMOGRAPHICS = 11;

    uint16 internal constant LABS_IMAGING = uint16(1 << LABS) | uint16(1 << IMAGING);
    uint32 internal constant WEEK = 7 days;

    function setUp() public virtual {
        vm.warp(T0);
        patients = new PatientRegistry();
        orgs = new OrganizationRegistry(address(this), address(this));
        grants = new AccessGrants(IPatientRegistry(address(patients)), IOrganizationRegistry(address(orgs)));
        vm.prank(ALICE);
        patients.register(KEY_A);
        _org(CLINIC, IOrganizationRegistry.Kind.Provider, true);
        _org(ER, IOrganizationRegistry.Kind.EmergencyProvider, true);
        _org(INSURER, IOrganizationRegistry.Kind.Insurer, true);
        _org(LAB, IOrganizationRegistry.Kind.Provider, false);
    }

    function _org(address who, IOrganizationRegistry.Kind kind, bool accredit) internal {
        vm.prank(who);
        orgs.register(kind, keccak256(abi.encode(who)), bytes32(0));
        if (accredit) orgs.accredit(who, ACCREDITED_UNTIL);
    }

    function _request(address requester, uint16 categories, uint32 duration) internal returns (uint256 id) {
        vm.prank(requester);
        id = grants.requestAccess(ALICE, categories, IAccessGrants.Purpose.TREAT, duration);
    }

    function _approve(uint256 id, uint16 categories, uint32 duration) internal {
        vm.prank(ALICE);
        grants.approve(id, categories, duration);
    }

    function _policy(uint16 neverShare, uint8 bannedKinds) internal {
        vm.prank(ALICE);
        grants.setPolicy(neverShare, bannedKinds);
    }

    function _kindBit(IOrganizationRegistry.Kind kind) internal pure returns (uint8) {
        return uint8(1 << uint8(kind));
    }
}

contract AccessGrantsTest is AccessGrantsFixture {
    // ---------------------------------------------------------------- constructor

    function test_constructor_zeroAddress_reverts() public {
        vm.expectRevert(IAccessGrants.AccessGrants__ZeroAddress.selector);
        new AccessGrants(IPatientRegistry(address(0)), IOrganizationRegistry(address(orgs)));
        vm.expectRevert(IAccessGrants.AccessGrants__ZeroAddress.selector);
        new AccessGrants(IPatientRegistry(address(patients)), IOrganizationRegistry(address(0)));
    }

    function test_constants_andRegistries() public view {
        assertEq(grants.EMERGENCY_CATEGORIES(), 0x080E);
        assertEq(
            grants.EMERGENCY_CATEGORIES(),
            uint16(1 << MEDICATIONS) | uint16(1 << ALLERGIES) | uint16(1 << CONDITIONS) | uint16(1 << DEMOGRAPHICS)
        );
        assertEq(grants.DEFAULT_BREAK_GLASS_DURATION(), 4 hours);
        assertEq(grants.MAX_BREAK_GLASS_DURATION(), 12 hours);
        assertEq(grants.MAX_GRANT_DURATION(), 365 days);
        assertEq(grants.patientRegistry(), address(patients));
        assertEq(grants.organizationRegistry(), address(orgs));
    }

    // ---------------------------------------------------------------- requestAccess

    function test_request_storesAndEmits() public {
        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.RequestCreated(1, ALICE, CLINIC, LABS_IMAGING, IAccessGrants.Purpose.HOPERAT, WEEK);
        vm.prank(CLINIC);
        uint256 id = grants.requestAccess(ALICE, LABS_IMAGING, IAccessGrants.Purpose.HOPERAT, WEEK);
        assertEq(id, 1);
        assertEq(grants.requestCount(), 1);
        IAccessGrants.Request memory r = grants.requestOf(id);
        assertEq(r.patient, ALICE);
        assertEq(r.requester, CLINIC);
        assertEq(r.categories, LABS_IMAGING);
        assertEq(uint8(r.purpose), uint8(IAccessGrants.Purpose.HOPERAT));
        assertEq(r.duration, WEEK);
        assertEq(uint8(r.status), uint8(IAccessGrants.RequestStatus.Pending));
        assertEq(r.createdAt, T0);
        // A request alone grants nothing.
        assertEq(grants.liveCategories(ALICE, CLINIC), 0);
    }

    function test_request_unregisteredPatient_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__PatientNotRegistered.selector, BOB));
        vm.prank(CLINIC);
        grants.requestAccess(BOB, LABS_IMAGING, IAccessGrants.Purpose.TREAT, WEEK);
    }

    function test_request_unregisteredOrPendingOrLapsedOrg_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotAccredited.selector, BOB));
        _request(BOB, LABS_IMAGING, WEEK);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotAccredited.selector, LAB));
        _request(LAB, LABS_IMAGING, WEEK);
        vm.warp(ACCREDITED_UNTIL);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotAccredited.selector, CLINIC));
        _request(CLINIC, LABS_IMAGING, WEEK);
        assertEq(grants.requestCount(), 0);
    }

    function test_request_invalidCategories_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__InvalidCategories.selector, uint16(0)));
        _request(CLINIC, 0, WEEK);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessGrants.AccessGrants__InvalidCategories.selector, uint16(1 << 13) | 1)
        );
        _request(CLINIC, uint16(1 << 13) | 1, WEEK);
    }

    function test_request_invalidDuration_reverts() public {
        uint32 max = grants.MAX_GRANT_DURATION();
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__InvalidDuration.selector, 0, max));
        _request(CLINIC, LABS_IMAGING, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__InvalidDuration.selector, max + 1, max));
        _request(CLINIC, LABS_IMAGING, max + 1);
        _request(CLINIC, LABS_IMAGING, max);
    }

    function test_request_purposeOutOfRange_reverts() public {
        // Purpose has 8 values; the ABI decoder rejects 8.
        vm.prank(CLINIC);
        (bool ok,) = address(grants)
            .call(abi.encodeWithSignature("requestAccess(address,uint16,uint8,uint32)", ALICE, LABS_IMAGING, 8, WEEK));
        assertFalse(ok);
        assertEq(grants.requestCount(), 0);
    }

    function test_request_bannedKind_reverts() public {
        _policy(0, _kindBit(IOrganizationRegistry.Kind.Insurer));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessGrants.AccessGrants__KindBanned.selector, ALICE, IOrganizationRegistry.Kind.Insurer
            )
        );
        _request(INSURER, LABS_IMAGING, WEEK);
        // Other kinds still may.
        _request(CLINIC, LABS_IMAGING, WEEK);
        assertEq(grants.requestCount(), 1);
    }

    function test_request_neverShared_reverts() public {
        uint16 mh = uint16(1 << MENTAL_HEALTH);
        _policy(mh, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NeverShared.selector, ALICE, mh));
        _request(CLINIC, LABS_IMAGING | mh, WEEK);
        _request(CLINIC, LABS_IMAGING, WEEK);
    }

    function test_requestOf_unknown_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__UnknownRequest.selector, 1));
        grants.requestOf(1);
    }

    // ---------------------------------------------------------------- approve

    function test_approve_full_grantsUntilExpiry() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        vm.warp(T0 + 1 hours);
        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.RequestApproved(
            id, ALICE, CLINIC, LABS_IMAGING, IAccessGrants.Purpose.TREAT, T0 + 1 hours + WEEK
        );
        _approve(id, LABS_IMAGING, WEEK);

        assertTrue(grants.isLive(ALICE, CLINIC, LABS));
        assertTrue(grants.isLive(ALICE, CLINIC, IMAGING));
        assertFalse(grants.isLive(ALICE, CLINIC, MEDICATIONS));
        assertFalse(grants.isLive(ALICE, INSURER, LABS));
        assertEq(grants.liveCategories(ALICE, CLINIC), LABS_IMAGING);
        assertEq(uint8(grants.requestOf(id).status), uint8(IAccessGrants.RequestStatus.Approved));
        IAccessGrants.Grant memory g = grants.grantOf(ALICE, CLINIC);
        assertEq(g.categories, LABS_IMAGING);
        assertEq(g.grantedAt, T0 + 1 hours);
        assertEq(g.expiresAt, T0 + 1 hours + WEEK);
        assertEq(g.requestId, id);

        vm.warp(T0 + 1 hours + WEEK - 1);
        assertTrue(grants.isLive(ALICE, CLINIC, LABS));
        vm.warp(T0 + 1 hours + WEEK);
        assertFalse(grants.isLive(ALICE, CLINIC, LABS));
        assertEq(grants.liveCategories(ALICE, CLINIC), 0);
    }

    function test_approve_subsetAndShorter() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        _approve(id, uint16(1 << LABS), 1 days);
        assertTrue(grants.isLive(ALICE, CLINIC, LABS));
        assertFalse(grants.isLive(ALICE, CLINIC, IMAGING));
        vm.warp(T0 + 1 days);
        assertFalse(grants.isLive(ALICE, CLINIC, LABS));
    }

    function test_approve_widerCategories_reverts() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        uint16 wider = LABS_IMAGING | uint16(1 << MEDICATIONS);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotSubset.selector, wider, LABS_IMAGING));
        _approve(id, wider, WEEK);
    }

    function test_approve_longer_reverts() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__DurationTooLong.selector, WEEK + 1, WEEK));
        _approve(id, LABS_IMAGING, WEEK + 1);
    }

    function test_approve_zeroCategoriesOrDuration_reverts() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__InvalidCategories.selector, 0));
        _approve(id, 0, WEEK);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__InvalidDuration.selector, 0, WEEK));
        _approve(id, LABS_IMAGING, 0);
    }

    function test_approve_notPatient_reverts() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__Unauthorized.selector, id, CLINIC));
        vm.prank(CLINIC);
        grants.approve(id, LABS_IMAGING, WEEK);
    }

    function test_approve_unknown_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__UnknownRequest.selector, 7));
        _approve(7, LABS_IMAGING, WEEK);
    }

    function test_approve_twice_reverts() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        _approve(id, LABS_IMAGING, WEEK);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessGrants.AccessGrants__NotPending.selector, id, IAccessGrants.RequestStatus.Approved
            )
        );
        _approve(id, LABS_IMAGING, WEEK);
    }

    function test_approve_neverSharedSinceRequest_reverts() public {
        uint16 mh = uint16(1 << MENTAL_HEALTH);
        uint256 id = _request(CLINIC, LABS_IMAGING | mh, WEEK);
        _policy(mh, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NeverShared.selector, ALICE, mh));
        _approve(id, LABS_IMAGING | mh, WEEK);
        // The rest may still be approved.
        _approve(id, LABS_IMAGING, WEEK);
        assertEq(grants.liveCategories(ALICE, CLINIC), LABS_IMAGING);
    }

    function test_approve_kindBannedSinceRequest_reverts() public {
        uint256 id = _request(INSURER, LABS_IMAGING, WEEK);
        _policy(0, _kindBit(IOrganizationRegistry.Kind.Insurer));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessGrants.AccessGrants__KindBanned.selector, ALICE, IOrganizationRegistry.Kind.Insurer
            )
        );
        _approve(id, LABS_IMAGING, WEEK);
    }

    function test_approve_requesterSuspended_reverts() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        orgs.suspend(CLINIC, keccak256("audit"));
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotAccredited.selector, CLINIC));
        _approve(id, LABS_IMAGING, WEEK);
    }

    function test_approve_replacesEarlierGrant() public {
        uint256 first = _request(CLINIC, LABS_IMAGING, 30 days);
        _approve(first, LABS_IMAGING, 30 days);
        uint256 second = _request(CLINIC, uint16(1 << MEDICATIONS), 1 days);
        _approve(second, uint16(1 << MEDICATIONS), 1 days);
        assertEq(grants.liveCategories(ALICE, CLINIC), uint16(1 << MEDICATIONS));
        assertEq(grants.grantOf(ALICE, CLINIC).requestId, second);
        vm.warp(T0 + 1 days);
        assertEq(grants.liveCategories(ALICE, CLINIC), 0);
    }

    // ---------------------------------------------------------------- deny / cancel

    function test_deny() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.RequestDenied(id, ALICE, CLINIC);
        vm.prank(ALICE);
        grants.deny(id);
        assertEq(uint8(grants.requestOf(id).status), uint8(IAccessGrants.RequestStatus.Denied));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessGrants.AccessGrants__NotPending.selector, id, IAccessGrants.RequestStatus.Denied
            )
        );
        _approve(id, LABS_IMAGING, WEEK);
        assertEq(grants.liveCategories(ALICE, CLINIC), 0);
    }

    function test_deny_notPatient_reverts() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__Unauthorized.selector, id, BOB));
        vm.prank(BOB);
        grants.deny(id);
    }

    function test_cancel_byRequester() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__Unauthorized.selector, id, ALICE));
        vm.prank(ALICE);
        grants.cancelRequest(id);
        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.RequestCancelled(id, ALICE, CLINIC);
        vm.prank(CLINIC);
        grants.cancelRequest(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessGrants.AccessGrants__NotPending.selector, id, IAccessGrants.RequestStatus.Cancelled
            )
        );
        _approve(id, LABS_IMAGING, WEEK);
    }

    // ---------------------------------------------------------------- revoke

    function test_revoke_endsAtOnce() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        _approve(id, LABS_IMAGING, WEEK);
        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.GrantRevoked(ALICE, CLINIC, id);
        vm.prank(ALICE);
        grants.revoke(CLINIC);
        assertFalse(grants.isLive(ALICE, CLINIC, LABS));
        assertEq(grants.grantOf(ALICE, CLINIC).expiresAt, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NoGrant.selector, ALICE, CLINIC));
        vm.prank(ALICE);
        grants.revoke(CLINIC);
    }

    function test_revoke_none_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NoGrant.selector, ALICE, CLINIC));
        vm.prank(ALICE);
        grants.revoke(CLINIC);
    }

    // ---------------------------------------------------------------- policy

    function test_setPolicy_storesAndEmits() public {
        uint16 mh = uint16(1 << MENTAL_HEALTH);
        uint8 noInsurers = _kindBit(IOrganizationRegistry.Kind.Insurer);
        vm.expectEmit(true, false, false, true, address(grants));
        emit IAccessGrants.PolicyUpdated(ALICE, mh, noInsurers);
        _policy(mh, noInsurers);
        IAccessGrants.Policy memory p = grants.policyOf(ALICE);
        assertEq(p.neverShare, mh);
        assertEq(p.bannedKinds, noInsurers);
    }

    function test_setPolicy_unregistered_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__PatientNotRegistered.selector, BOB));
        vm.prank(BOB);
        grants.setPolicy(0, 0);
    }

    function test_setPolicy_unknownBits_revert() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__InvalidCategories.selector, uint16(1 << 13)));
        _policy(uint16(1 << 13), 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__InvalidKinds.selector, uint8(0x80)));
        _policy(0, 0x80);
    }

    function test_policy_neverShareAppliesToExistingGrants() public {
        uint16 mh = uint16(1 << MENTAL_HEALTH);
        uint256 id = _request(CLINIC, LABS_IMAGING | mh, WEEK);
        _approve(id, LABS_IMAGING | mh, WEEK);
        assertTrue(grants.isLive(ALICE, CLINIC, MENTAL_HEALTH));
        _policy(mh, 0);
        assertFalse(grants.isLive(ALICE, CLINIC, MENTAL_HEALTH));
        assertTrue(grants.isLive(ALICE, CLINIC, LABS));
        // Lifting the policy does not extend anything: the grant is as it was.
        _policy(0, 0);
        assertTrue(grants.isLive(ALICE, CLINIC, MENTAL_HEALTH));
    }

    function test_policy_banAppliesToExistingGrants() public {
        uint256 id = _request(INSURER, LABS_IMAGING, WEEK);
        _approve(id, LABS_IMAGING, WEEK);
        assertTrue(grants.isLive(ALICE, INSURER, LABS));
        _policy(0, _kindBit(IOrganizationRegistry.Kind.Insurer));
        assertEq(grants.liveCategories(ALICE, INSURER), 0);
    }

    function test_grantee_suspendedOrLapsed_notLive() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, 365 days);
        _approve(id, LABS_IMAGING, 365 days);
        orgs.suspend(CLINIC, keccak256("audit"));
        assertFalse(grants.isLive(ALICE, CLINIC, LABS));
        orgs.accredit(CLINIC, T0 + 10 days);
        assertTrue(grants.isLive(ALICE, CLINIC, LABS));
        vm.warp(T0 + 10 days);
        assertFalse(grants.isLive(ALICE, CLINIC, LABS));
    }

    function test_isLive_unknownCategory_false() public {
        uint256 id = _request(CLINIC, CategoryMask.ALL, WEEK);
        _approve(id, CategoryMask.ALL, WEEK);
        for (uint8 c = 0; c < 13; c++) {
            assertTrue(grants.isLive(ALICE, CLINIC, c));
        }
        assertFalse(grants.isLive(ALICE, CLINIC, 13));
        assertFalse(grants.isLive(ALICE, CLINIC, 255));
    }

    // ---------------------------------------------------------------- break-glass

    function test_breakGlass_opensEmergencyProfileForDefaultWindow() public {
        bytes32 reason = keccak256("unconscious, ED bay 3");
        vm.expectEmit(true, true, false, true, address(grants));
        emit IAccessGrants.BreakGlassOpened(ALICE, ER, CategoryMask.EMERGENCY, T0 + 4 hours, reason);
        vm.prank(ER);
        uint64 expiresAt = grants.breakGlass(ALICE, reason, 0);
        assertEq(expiresAt, T0 + 4 hours);

        assertEq(grants.liveCategories(ALICE, ER), CategoryMask.EMERGENCY);
        assertTrue(grants.isLive(ALICE, ER, ALLERGIES));
        assertTrue(grants.isLive(ALICE, ER, MEDICATIONS));
        assertTrue(grants.isLive(ALICE, ER, CONDITIONS));
        assertTrue(grants.isLive(ALICE, ER, DEMOGRAPHICS));
        assertFalse(grants.isLive(ALICE, ER, LABS));
        assertFalse(grants.isLive(ALICE, ER, MENTAL_HEALTH));
        IAccessGrants.BreakGlass memory w = grants.breakGlassOf(ALICE, ER);
        assertEq(w.openedAt, T0);
        assertEq(w.expiresAt, T0 + 4 hours);
        assertEq(w.categories, CategoryMask.EMERGENCY);

        vm.warp(T0 + 4 hours - 1);
        assertTrue(grants.isLive(ALICE, ER, ALLERGIES));
        vm.warp(T0 + 4 hours);
        assertFalse(grants.isLive(ALICE, ER, ALLERGIES));
    }

    function test_breakGlass_customAndMaxDuration() public {
        vm.prank(ER);
        assertEq(grants.breakGlass(ALICE, keccak256("r"), 1 hours), T0 + 1 hours);
        vm.prank(ER);
        assertEq(grants.breakGlass(ALICE, keccak256("r"), 12 hours), T0 + 12 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessGrants.AccessGrants__InvalidDuration.selector, 12 hours + 1, 12 hours)
        );
        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r"), 12 hours + 1);
    }

    function test_breakGlass_onlyAccreditedEmergencyProviders() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotEmergencyProvider.selector, CLINIC));
        vm.prank(CLINIC);
        grants.breakGlass(ALICE, keccak256("r"), 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotAccredited.selector, BOB));
        vm.prank(BOB);
        grants.breakGlass(ALICE, keccak256("r"), 0);
        orgs.suspend(ER, keccak256("audit"));
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotAccredited.selector, ER));
        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r"), 0);
    }

    function test_breakGlass_needsReasonAndPatient() public {
        vm.expectRevert(IAccessGrants.AccessGrants__ZeroReason.selector);
        vm.prank(ER);
        grants.breakGlass(ALICE, bytes32(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__PatientNotRegistered.selector, BOB));
        vm.prank(ER);
        grants.breakGlass(BOB, keccak256("r"), 0);
    }

    function test_breakGlass_patientOptOut_reverts() public {
        _policy(0, _kindBit(IOrganizationRegistry.Kind.EmergencyProvider));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessGrants.AccessGrants__KindBanned.selector, ALICE, IOrganizationRegistry.Kind.EmergencyProvider
            )
        );
        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r"), 0);
    }

    function test_breakGlass_skipsNeverShared() public {
        uint16 conditions = uint16(1 << CONDITIONS);
        _policy(conditions, 0);
        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r"), 0);
        assertEq(grants.liveCategories(ALICE, ER), CategoryMask.EMERGENCY & ~conditions);
        assertFalse(grants.isLive(ALICE, ER, CONDITIONS));
    }

    function test_breakGlass_allEmergencyNeverShared_reverts() public {
        _policy(CategoryMask.EMERGENCY, 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NothingToOpen.selector, ALICE));
        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r"), 0);
    }

    function test_breakGlass_addsToAGrant() public {
        uint256 id = _request(ER, uint16(1 << LABS), WEEK);
        _approve(id, uint16(1 << LABS), WEEK);
        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r"), 0);
        assertEq(grants.liveCategories(ALICE, ER), CategoryMask.EMERGENCY | uint16(1 << LABS));
        vm.warp(T0 + 4 hours);
        assertEq(grants.liveCategories(ALICE, ER), uint16(1 << LABS));
    }

    function test_closeBreakGlass_byPatientOrProvider() public {
        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r"), 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotPatientOrProvider.selector, CLINIC));
        vm.prank(CLINIC);
        grants.closeBreakGlass(ALICE, ER);

        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.BreakGlassClosed(ALICE, ER, ALICE);
        vm.prank(ALICE);
        grants.closeBreakGlass(ALICE, ER);
        assertEq(grants.liveCategories(ALICE, ER), 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NoBreakGlass.selector, ALICE, ER));
        vm.prank(ER);
        grants.closeBreakGlass(ALICE, ER);

        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r2"), 0);
        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.BreakGlassClosed(ALICE, ER, ER);
        vm.prank(ER);
        grants.closeBreakGlass(ALICE, ER);
        assertEq(grants.liveCategories(ALICE, ER), 0);
    }

    function test_closeBreakGlass_expired_reverts() public {
        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r"), 0);
        vm.warp(T0 + 4 hours);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NoBreakGlass.selector, ALICE, ER));
        vm.prank(ALICE);
        grants.closeBreakGlass(ALICE, ER);
    }

    function test_revoke_walletControllingNoAccount_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__PatientNotRegistered.selector, BOB));
        vm.prank(BOB);
        grants.revoke(CLINIC);
    }

    // ---------------------------------------------------------------- after a guardian recovery

    address internal constant NEW_WALLET = address(0x2E11);

    /// @dev Two of ALICE's three guardians move her account to NEW_WALLET; the delay passes.
    function _recoverAlice() internal {
        address[] memory guardians = new address[](3);
        // casting to 'uint160' is safe because 0x6000 + i is tiny
        // forge-lint: disable-next-line(unsafe-typecast)
        for (uint256 i = 0; i < 3; ++i) guardians[i] = address(uint160(0x6000 + i));
        vm.prank(ALICE);
        patients.setGuardians(guardians, 2, 1 days);
        vm.prank(guardians[0]);
        patients.startRecovery(ALICE, NEW_WALLET, KEY_A);
        vm.prank(guardians[2]);
        patients.approveRecovery(ALICE, 1);
        vm.warp(block.timestamp + 1 days);
        patients.completeRecovery(ALICE);
        assertEq(patients.accountOf(NEW_WALLET), ALICE);
    }

    function test_recovered_newWalletApprovesAndRevokes_oldCannot() public {
        uint256 granted = _request(CLINIC, LABS_IMAGING, WEEK);
        _approve(granted, LABS_IMAGING, WEEK);
        uint256 pending = _request(INSURER, LABS_IMAGING, WEEK);
        _recoverAlice();

        // The old wallet acts for no account any more.
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__Unauthorized.selector, pending, ALICE));
        vm.prank(ALICE);
        grants.approve(pending, LABS_IMAGING, WEEK);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__PatientNotRegistered.selector, ALICE));
        vm.prank(ALICE);
        grants.revoke(CLINIC);
        assertTrue(grants.isLive(ALICE, CLINIC, LABS));

        // The new wallet acts for the account, whose grants stay keyed by the account.
        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.RequestApproved(
            pending, ALICE, INSURER, uint16(1 << LABS), IAccessGrants.Purpose.TREAT, uint64(block.timestamp) + WEEK
        );
        vm.prank(NEW_WALLET);
        grants.approve(pending, uint16(1 << LABS), WEEK);
        assertEq(grants.liveCategories(ALICE, INSURER), uint16(1 << LABS));
        assertEq(grants.liveCategories(NEW_WALLET, INSURER), 0);

        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.GrantRevoked(ALICE, CLINIC, granted);
        vm.prank(NEW_WALLET);
        grants.revoke(CLINIC);
        assertFalse(grants.isLive(ALICE, CLINIC, LABS));

        // Requests are still addressed to the account; the new wallet is not a patient of its own.
        uint256 next = _request(CLINIC, LABS_IMAGING, WEEK);
        assertEq(grants.requestOf(next).patient, ALICE);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__PatientNotRegistered.selector, NEW_WALLET));
        vm.prank(CLINIC);
        grants.requestAccess(NEW_WALLET, LABS_IMAGING, IAccessGrants.Purpose.TREAT, WEEK);
    }

    function test_recovered_newWalletDeniesAndSetsPolicy_oldCannot() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        _recoverAlice();
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__Unauthorized.selector, id, ALICE));
        vm.prank(ALICE);
        grants.deny(id);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__PatientNotRegistered.selector, ALICE));
        vm.prank(ALICE);
        grants.setPolicy(0, _kindBit(IOrganizationRegistry.Kind.Insurer));

        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.RequestDenied(id, ALICE, CLINIC);
        vm.prank(NEW_WALLET);
        grants.deny(id);

        uint16 mh = uint16(1 << MENTAL_HEALTH);
        vm.expectEmit(true, false, false, true, address(grants));
        emit IAccessGrants.PolicyUpdated(ALICE, mh, 0);
        vm.prank(NEW_WALLET);
        grants.setPolicy(mh, 0);
        assertEq(grants.policyOf(ALICE).neverShare, mh);
        assertEq(grants.policyOf(NEW_WALLET).neverShare, 0);
    }

    function test_recovered_newWalletClosesBreakGlass_oldCannot() public {
        _recoverAlice();
        vm.prank(ER);
        grants.breakGlass(ALICE, keccak256("r"), 0);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotPatientOrProvider.selector, ALICE));
        vm.prank(ALICE);
        grants.closeBreakGlass(ALICE, ER);
        vm.expectEmit(true, true, true, true, address(grants));
        emit IAccessGrants.BreakGlassClosed(ALICE, ER, NEW_WALLET);
        vm.prank(NEW_WALLET);
        grants.closeBreakGlass(ALICE, ER);
        assertEq(grants.liveCategories(ALICE, ER), 0);
    }

    function test_recoveryCancelled_oldWalletKeepsActing() public {
        uint256 id = _request(CLINIC, LABS_IMAGING, WEEK);
        address[] memory guardians = new address[](2);
        guardians[0] = address(0x6000);
        guardians[1] = address(0x6001);
        vm.prank(ALICE);
        patients.setGuardians(guardians, 2, 1 days);
        vm.prank(guardians[0]);
        patients.startRecovery(ALICE, NEW_WALLET, KEY_A);
        vm.prank(guardians[1]);
        patients.approveRecovery(ALICE, 1);
        vm.prank(ALICE);
        patients.cancelRecovery();
        vm.warp(block.timestamp + 2 days);

        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__Unauthorized.selector, id, NEW_WALLET));
        vm.prank(NEW_WALLET);
        grants.approve(id, LABS_IMAGING, WEEK);
        _approve(id, LABS_IMAGING, WEEK);
        assertTrue(grants.isLive(ALICE, CLINIC, LABS));
    }

    // ---------------------------------------------------------------- fuzz

    /// Approval never widens categories nor extends the duration; it succeeds exactly when it narrows.
    function testFuzz_approve_neverWidensOrExtends(
        uint16 requested,
        uint16 approved,
        uint32 requestedDuration,
        uint32 approvedDuration
    ) public {
        requested = uint16(bound(requested, 1, CategoryMask.ALL));
        requestedDuration = uint32(bound(requestedDuration, 1, grants.MAX_GRANT_DURATION()));
        uint256 id = _request(CLINIC, requested, requestedDuration);
        bool ok = approved != 0 && approved & ~requested == 0 && approvedDuration != 0
            && approvedDuration <= requestedDuration;
        if (!ok) vm.expectRevert();
        _approve(id, approved, approvedDuration);

        IAccessGrants.Grant memory g = grants.grantOf(ALICE, CLINIC);
        uint16 live = grants.liveCategories(ALICE, CLINIC);
        assertEq(live & ~requested, 0, "live beyond request");
        assertLe(g.expiresAt, T0 + requestedDuration, "expires after request");
        if (ok) {
            assertEq(g.categories, approved);
            assertEq(live, approved);
            assertEq(g.expiresAt, T0 + approvedDuration);
        } else {
            assertEq(live, 0);
            assertEq(uint8(grants.requestOf(id).status), uint8(IAccessGrants.RequestStatus.Pending));
        }
    }

    function testFuzz_isLive_falseAfterExpiry(uint32 duration, uint32 elapsed, uint8 category) public {
        duration = uint32(bound(duration, 1, grants.MAX_GRANT_DURATION()));
        category = uint8(bound(category, 0, 12));
        uint16 bit = uint16(1 << category);
        uint256 id = _request(CLINIC, bit, duration);
        _approve(id, bit, duration);
        vm.warp(T0 + uint64(elapsed));
        assertEq(grants.isLive(ALICE, CLINIC, category), elapsed < duration);
    }

    function testFuzz_isLive_falseAfterRevoke(uint16 categories, uint32 elapsed, uint8 category) public {
        categories = uint16(bound(categories, 1, CategoryMask.ALL));
        uint256 id = _request(CLINIC, categories, WEEK);
        _approve(id, categories, WEEK);
        vm.warp(T0 + uint64(bound(elapsed, 0, WEEK * 2)));
        vm.prank(ALICE);
        grants.revoke(CLINIC);
        assertFalse(grants.isLive(ALICE, CLINIC, category));
        assertEq(grants.liveCategories(ALICE, CLINIC), 0);
    }

    /// A request from a kind the patient bans always reverts, whatever else it asks.
    function testFuzz_bannedKind_alwaysReverts(uint8 bannedKinds, uint16 categories, uint32 duration, uint8 purpose)
        public
    {
        bannedKinds = uint8(bound(bannedKinds, 0, 0x7F));
        bannedKinds |= _kindBit(IOrganizationRegistry.Kind.Insurer);
        _policy(0, bannedKinds);
        vm.expectRevert();
        vm.prank(INSURER);
        grants.requestAccess(ALICE, categories, IAccessGrants.Purpose(bound(purpose, 0, 7)), duration);
        // And with otherwise valid arguments, it is the ban that reverts.
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessGrants.AccessGrants__KindBanned.selector, ALICE, IOrganizationRegistry.Kind.Insurer
            )
        );
        _request(INSURER, uint16(bound(categories, 1, CategoryMask.ALL)), WEEK);
        assertEq(grants.requestCount(), 0);
    }

    /// Never-share bits are never live, whether the policy came before or after the grant or window.
    function testFuzz_neverShare_neverLive(uint16 neverShare, uint16 granted, bool policyFirst, uint8 category) public {
        neverShare = uint16(bound(neverShare, 0, CategoryMask.ALL));
        granted = uint16(bound(granted, 1, CategoryMask.ALL));
        category = uint8(bound(category, 0, 12));
        if (policyFirst) {
            _policy(neverShare, 0);
            granted &= ~neverShare;
            vm.assume(granted != 0);
        }
        uint256 id = _request(ER, granted, WEEK);
        _approve(id, granted, WEEK);
        if (neverShare & CategoryMask.EMERGENCY != CategoryMask.EMERGENCY || !policyFirst) {
            vm.prank(ER);
            grants.breakGlass(ALICE, keccak256("r"), 0);
        }
        if (!policyFirst) _policy(neverShare, 0);

        assertEq(grants.liveCategories(ALICE, ER) & neverShare, 0);
        if ((neverShare >> category) & 1 == 1) assertFalse(grants.isLive(ALICE, ER, category));
    }

    /// Break-glass opens only emergency categories, and only within its window.
    function testFuzz_breakGlass_onlyEmergencyWithinWindow(uint32 duration, uint32 elapsed, uint8 category) public {
        duration = uint32(bound(duration, 0, 12 hours));
        vm.prank(ER);
        uint64 expiresAt = grants.breakGlass(ALICE, keccak256("r"), duration);
        uint32 effective = duration == 0 ? 4 hours : duration;
        assertEq(expiresAt, T0 + effective);
        vm.warp(T0 + uint64(elapsed));
        bool expected = elapsed < effective && CategoryMask.has(CategoryMask.EMERGENCY, category);
        assertEq(grants.isLive(ALICE, ER, category), expected);
        assertEq(grants.liveCategories(ALICE, ER) & ~CategoryMask.EMERGENCY, 0);
    }

    function testFuzz_breakGlass_nonEmergencyKindsRevert(uint8 rawKind, address who) public {
        IOrganizationRegistry.Kind kind = IOrganizationRegistry.Kind(bound(rawKind, 0, 6));
        vm.assume(kind != IOrganizationRegistry.Kind.EmergencyProvider);
        vm.assume(who != address(0) && !orgs.isRegistered(who) && who != ALICE);
        _org(who, kind, true);
        vm.expectRevert(abi.encodeWithSelector(IAccessGrants.AccessGrants__NotEmergencyProvider.selector, who));
        vm.prank(who);
        grants.breakGlass(ALICE, keccak256("r"), 0);
        assertEq(grants.liveCategories(ALICE, who), 0);
    }
}

/// @dev Drives AccessGrants with random requests, answers, policies, break-glass and time.
contract AccessGrantsHandler is Test {
    AccessGrants internal immutable grants;
    address[2] internal patientList;
    address[3] internal orgList;
    address internal immutable emergency;

    /// @dev Ghost: every category ever asked of `patient` by `org` in a request that was created.
    mapping(address patient => mapping(address org => uint16)) public everRequested;
    uint256 public requests;
    /// @dev Ghost: successful approvals and break-glass openings, to show the run did something.
    uint256 public approvals;
    uint256 public windows;

    constructor(AccessGrants grants_, address[2] memory patients_, address[3] memory orgs_, address emergency_) {
        grants = grants_;
        patientList = patients_;
        orgList = orgs_;
        emergency = emergency_;
    }

    function request(uint256 p, uint256 o, uint16 categories, uint32 duration, uint8 purpose) external {
        address patient = patientList[p % 2];
        address org = orgList[o % 3];
        // Mostly well-formed, so that grants happen; policy may still reject them.
        categories = uint16(bound(categories, 1, CategoryMask.ALL));
        duration = uint32(bound(duration, 1, 60 days));
        vm.prank(org);
        try grants.requestAccess(patient, categories, IAccessGrants.Purpose(purpose % 8), duration) {
            everRequested[patient][org] |= categories;
            ++requests;
        } catch {}
    }

    /// @dev Any answer at all: the contract must refuse the ones that widen or extend.
    function approve(uint256 id, uint16 categories, uint32 duration) external {
        if (requests == 0) return;
        id = bound(id, 1, requests);
        vm.prank(grants.requestOf(id).patient);
        try grants.approve(id, categories, duration) {
            ++approvals;
        } catch {}
    }

    /// @dev A narrowing answer: a subset of the categories, at most the duration.
    function approveSubset(uint256 id, uint16 categories, uint32 duration) external {
        if (requests == 0) return;
        id = bound(id, 1, requests);
        IAccessGrants.Request memory r = grants.requestOf(id);
        categories &= r.categories;
        if (categories == 0) categories = r.categories;
        vm.prank(r.patient);
        try grants.approve(id, categories, uint32(bound(duration, 1, r.duration))) {
            ++approvals;
        } catch {}
    }

    function deny(uint256 id) external {
        if (requests == 0) return;
        id = bound(id, 1, requests);
        vm.prank(grants.requestOf(id).patient);
        try grants.deny(id) {} catch {}
    }

    function revoke(uint256 p, uint256 o) external {
        vm.prank(patientList[p % 2]);
        try grants.revoke(orgList[o % 3]) {} catch {}
    }

    function setPolicy(uint256 p, uint16 neverShare, uint8 bannedKinds) external {
        // Sparse policies, so that most requests pass them.
        vm.prank(patientList[p % 2]);
        try grants.setPolicy(neverShare & 0x1FFF & uint16(1 << (neverShare % 13)), bannedKinds & 0x7F & 0x0A) {}
            catch {}
    }

    function breakGlass(uint256 p, uint32 duration) external {
        vm.prank(emergency);
        try grants.breakGlass(patientList[p % 2], keccak256("reason"), duration) {
            ++windows;
        } catch {}
    }

    function warp(uint32 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 30 days));
    }
}

contract AccessGrantsInvariantTest is AccessGrantsFixture {
    AccessGrantsHandler internal handler;
    address internal constant CAROL = address(0xCA201);
    bytes32 internal constant KEY_B = 0xde9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f;

    function setUp() public override {
        super.setUp();
        vm.prank(CAROL);
        patients.register(KEY_B);
        // Accredited for the whole run, so only policy, grants and windows decide liveness.
        orgs.accredit(CLINIC, type(uint64).max);
        orgs.accredit(ER, type(uint64).max);
        orgs.accredit(INSURER, type(uint64).max);
        handler = new AccessGrantsHandler(grants, [ALICE, CAROL], [CLINIC, ER, INSURER], ER);
        targetContract(address(handler));
    }

    function _each(function(address, address) internal view check) internal view {
        address[2] memory ps = [ALICE, CAROL];
        address[3] memory os = [CLINIC, ER, INSURER];
        for (uint256 i = 0; i < 2; i++) {
            for (uint256 j = 0; j < 3; j++) {
                check(ps[i], os[j]);
            }
        }
    }

    function _neverSharedNotLive(address patient, address org) internal view {
        assertEq(grants.liveCategories(patient, org) & grants.policyOf(patient).neverShare, 0);
    }

    function _liveWithinAsked(address patient, address org) internal view {
        uint16 allowed = handler.everRequested(patient, org) | (org == ER ? CategoryMask.EMERGENCY : 0);
        assertEq(grants.liveCategories(patient, org) & ~allowed, 0);
    }

    function _bannedKindNotLive(address patient, address org) internal view {
        uint8 kind = uint8(orgs.kindOf(org));
        if ((grants.policyOf(patient).bannedKinds >> kind) & 1 == 1) {
            assertEq(grants.liveCategories(patient, org), 0);
        }
    }

    function _grantWithinLimits(address patient, address org) internal view {
        IAccessGrants.Grant memory g = grants.grantOf(patient, org);
        if (g.requestId == 0) return;
        IAccessGrants.Request memory r = grants.requestOf(g.requestId);
        assertEq(g.categories & ~r.categories, 0);
        assertLe(g.expiresAt - g.grantedAt, r.duration);
        IAccessGrants.BreakGlass memory w = grants.breakGlassOf(patient, org);
        assertLe(w.expiresAt - w.openedAt, grants.MAX_BREAK_GLASS_DURATION());
    }

    /// Never-share categories are never live.
    function invariant_neverSharedNeverLive() public view {
        _each(_neverSharedNotLive);
    }

    /// What is live was asked for by that organisation (or is the emergency profile of a break-glass).
    function invariant_liveOnlyWhatWasAsked() public view {
        _each(_liveWithinAsked);
    }

    /// An organisation of a banned kind has nothing live.
    function invariant_bannedKindsHaveNothingLive() public view {
        _each(_bannedKindNotLive);
    }

    /// Grants are within their requests; windows within the maximum.
    function invariant_grantsWithinRequests() public view {
        _each(_grantWithinLimits);
    }
}
