// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {OrganizationRegistry} from "../src/OrganizationRegistry.sol";
import {IOrganizationRegistry} from "../src/interfaces/IOrganizationRegistry.sol";

contract OrganizationRegistryTest is Test {
    OrganizationRegistry internal registry;

    address internal constant ADMIN = address(0xAD);
    address internal constant ACCREDITOR = address(0xACC);
    address internal constant CLINIC = address(0xC11);
    address internal constant INSURER = address(0x1A5);
    bytes32 internal constant NAME = keccak256("General Hospital");
    bytes32 internal constant META = keccak256("metadata document");
    uint64 internal constant T0 = 1_700_000_000;

    function setUp() public {
        vm.warp(T0);
        registry = new OrganizationRegistry(ADMIN, ACCREDITOR);
    }

    function _register(address org, IOrganizationRegistry.Kind kind) internal {
        vm.prank(org);
        registry.register(kind, NAME, META);
    }

    // ---------------------------------------------------------------- constructor and roles

    function test_constructor_grantsRoles() public view {
        assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), ADMIN));
        assertTrue(registry.hasRole(registry.ACCREDITOR_ROLE(), ACCREDITOR));
        assertFalse(registry.hasRole(registry.ACCREDITOR_ROLE(), ADMIN));
    }

    function test_constructor_noAccreditor() public {
        OrganizationRegistry r = new OrganizationRegistry(ADMIN, address(0));
        assertFalse(r.hasRole(r.ACCREDITOR_ROLE(), address(0)));
    }

    function test_constructor_zeroAdmin_reverts() public {
        vm.expectRevert(IOrganizationRegistry.OrganizationRegistry__ZeroAdmin.selector);
        new OrganizationRegistry(address(0), ACCREDITOR);
    }

    function test_admin_grantsAccreditorRole() public {
        bytes32 role = registry.ACCREDITOR_ROLE();
        vm.prank(ADMIN);
        registry.grantRole(role, address(0xB0B));
        assertTrue(registry.hasRole(role, address(0xB0B)));
    }

    // ---------------------------------------------------------------- register

    function test_register_pendingUntilAccredited() public {
        vm.expectEmit(true, true, false, true, address(registry));
        emit IOrganizationRegistry.OrganizationRegistered(CLINIC, IOrganizationRegistry.Kind.Provider, NAME, META);
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);

        assertTrue(registry.isRegistered(CLINIC));
        assertFalse(registry.isAccredited(CLINIC));
        assertEq(uint8(registry.kindOf(CLINIC)), uint8(IOrganizationRegistry.Kind.Provider));
        assertEq(registry.organizationCount(), 1);
        IOrganizationRegistry.Organization memory o = registry.organizationOf(CLINIC);
        assertEq(o.registeredAt, T0);
        assertEq(o.nameHash, NAME);
        assertEq(o.metadataHash, META);
        assertEq(o.accreditedUntil, 0);
        assertFalse(o.accredited);
    }

    function test_register_twice_reverts() public {
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        vm.expectRevert(
            abi.encodeWithSelector(IOrganizationRegistry.OrganizationRegistry__AlreadyRegistered.selector, CLINIC)
        );
        _register(CLINIC, IOrganizationRegistry.Kind.Insurer);
        assertEq(uint8(registry.kindOf(CLINIC)), uint8(IOrganizationRegistry.Kind.Provider));
    }

    function test_register_zeroName_reverts() public {
        vm.expectRevert(IOrganizationRegistry.OrganizationRegistry__ZeroNameHash.selector);
        vm.prank(CLINIC);
        registry.register(IOrganizationRegistry.Kind.Provider, bytes32(0), META);
    }

    function test_register_kindOutOfRange_reverts() public {
        // Kind has 7 values; the ABI decoder rejects 7.
        vm.prank(CLINIC);
        (bool ok,) = address(registry).call(abi.encodeWithSignature("register(uint8,bytes32,bytes32)", 7, NAME, META));
        assertFalse(ok);
        assertFalse(registry.isRegistered(CLINIC));
    }

    function test_kindOf_unregistered_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IOrganizationRegistry.OrganizationRegistry__NotRegistered.selector, CLINIC)
        );
        registry.kindOf(CLINIC);
    }

    function test_update_replacesHashes() public {
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        bytes32 name2 = keccak256("General Hospital NHS Trust");
        vm.expectEmit(true, false, false, true, address(registry));
        emit IOrganizationRegistry.OrganizationUpdated(CLINIC, name2, bytes32(0));
        vm.prank(CLINIC);
        registry.update(name2, bytes32(0));
        assertEq(registry.organizationOf(CLINIC).nameHash, name2);
        assertEq(registry.organizationOf(CLINIC).metadataHash, bytes32(0));
    }

    function test_update_unregistered_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IOrganizationRegistry.OrganizationRegistry__NotRegistered.selector, CLINIC)
        );
        vm.prank(CLINIC);
        registry.update(NAME, META);
    }

    // ---------------------------------------------------------------- accredit / suspend

    function test_accredit_untilExpiry() public {
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IOrganizationRegistry.OrganizationAccredited(CLINIC, ACCREDITOR, T0 + 365 days);
        vm.prank(ACCREDITOR);
        registry.accredit(CLINIC, T0 + 365 days);
        assertTrue(registry.isAccredited(CLINIC));

        vm.warp(T0 + 365 days - 1);
        assertTrue(registry.isAccredited(CLINIC));
        vm.warp(T0 + 365 days);
        assertFalse(registry.isAccredited(CLINIC));
    }

    function test_accredit_renewsLapsed() public {
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        vm.prank(ACCREDITOR);
        registry.accredit(CLINIC, T0 + 1 days);
        vm.warp(T0 + 2 days);
        assertFalse(registry.isAccredited(CLINIC));
        vm.prank(ACCREDITOR);
        registry.accredit(CLINIC, T0 + 30 days);
        assertTrue(registry.isAccredited(CLINIC));
    }

    function test_accredit_notAccreditor_reverts() public {
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        bytes32 role = registry.ACCREDITOR_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, CLINIC, role));
        vm.prank(CLINIC);
        registry.accredit(CLINIC, T0 + 1 days);
        // The admin manages roles but does not accredit.
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, ADMIN, role));
        vm.prank(ADMIN);
        registry.accredit(CLINIC, T0 + 1 days);
    }

    function test_accredit_unregistered_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IOrganizationRegistry.OrganizationRegistry__NotRegistered.selector, CLINIC)
        );
        vm.prank(ACCREDITOR);
        registry.accredit(CLINIC, T0 + 1 days);
    }

    function test_accredit_pastExpiry_reverts() public {
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        vm.expectRevert(
            abi.encodeWithSelector(IOrganizationRegistry.OrganizationRegistry__ExpiryNotInFuture.selector, T0)
        );
        vm.prank(ACCREDITOR);
        registry.accredit(CLINIC, T0);
    }

    function test_suspend_endsAccreditationAtOnce() public {
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        vm.prank(ACCREDITOR);
        registry.accredit(CLINIC, T0 + 365 days);
        bytes32 reason = keccak256("licence withdrawn");
        vm.expectEmit(true, true, false, true, address(registry));
        emit IOrganizationRegistry.OrganizationSuspended(CLINIC, ACCREDITOR, reason);
        vm.prank(ACCREDITOR);
        registry.suspend(CLINIC, reason);
        assertFalse(registry.isAccredited(CLINIC));
        assertTrue(registry.isRegistered(CLINIC));
        // Suspending again: nothing to suspend.
        vm.expectRevert(
            abi.encodeWithSelector(IOrganizationRegistry.OrganizationRegistry__NotAccredited.selector, CLINIC)
        );
        vm.prank(ACCREDITOR);
        registry.suspend(CLINIC, reason);
    }

    function test_suspend_pending_reverts() public {
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        vm.expectRevert(
            abi.encodeWithSelector(IOrganizationRegistry.OrganizationRegistry__NotAccredited.selector, CLINIC)
        );
        vm.prank(ACCREDITOR);
        registry.suspend(CLINIC, bytes32(0));
    }

    function test_suspend_notAccreditor_reverts() public {
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        vm.prank(ACCREDITOR);
        registry.accredit(CLINIC, T0 + 1 days);
        bytes32 role = registry.ACCREDITOR_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, INSURER, role));
        vm.prank(INSURER);
        registry.suspend(CLINIC, bytes32(0));
        assertTrue(registry.isAccredited(CLINIC));
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_isAccredited_byBlockTime(uint64 until, uint64 at) public {
        until = uint64(bound(until, T0 + 1, type(uint64).max));
        at = uint64(bound(at, T0, type(uint64).max));
        _register(CLINIC, IOrganizationRegistry.Kind.Researcher);
        vm.prank(ACCREDITOR);
        registry.accredit(CLINIC, until);
        vm.warp(at);
        assertEq(registry.isAccredited(CLINIC), at < until);
    }

    function testFuzz_register_anyKindKept(address org, uint8 rawKind) public {
        vm.assume(org != address(0));
        IOrganizationRegistry.Kind kind = IOrganizationRegistry.Kind(bound(rawKind, 0, 6));
        _register(org, kind);
        assertEq(uint8(registry.kindOf(org)), uint8(kind));
        assertFalse(registry.isAccredited(org));
    }

    function testFuzz_onlyAccreditorAccredits(address caller) public {
        vm.assume(caller != ACCREDITOR);
        _register(CLINIC, IOrganizationRegistry.Kind.Provider);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, registry.ACCREDITOR_ROLE()
            )
        );
        vm.prank(caller);
        registry.accredit(CLINIC, T0 + 1 days);
        assertFalse(registry.isAccredited(CLINIC));
    }
}
