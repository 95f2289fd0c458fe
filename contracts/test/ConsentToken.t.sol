// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {ConsentToken} from "../src/ConsentToken.sol";
import {IConsentHooks} from "../src/interfaces/IConsentHooks.sol";
import {IConsentToken} from "../src/interfaces/IConsentToken.sol";

/// @notice Signs ERC-2771 forward requests for OpenZeppelin's ERC2771Forwarder with a test key.
abstract contract ForwardRequests is Test {
    bytes32 private constant REQUEST_TYPEHASH = keccak256(
        "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"
    );

    function _domainSeparator(ERC2771Forwarder forwarder) private view returns (bytes32) {
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = forwarder.eip712Domain();
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifying
            )
        );
    }

    function _requestHash(ERC2771Forwarder forwarder, address from, address to, uint48 deadline, bytes memory data)
        private
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(REQUEST_TYPEHASH, from, to, 0, 1_000_000, forwarder.nonces(from), deadline, keccak256(data))
        );
    }

    function _signedRequest(ERC2771Forwarder forwarder, uint256 key, address to, bytes memory data)
        internal
        view
        returns (ERC2771Forwarder.ForwardRequestData memory req)
    {
        address from = vm.addr(key);
        uint48 deadline = uint48(block.timestamp + 1 hours);
        bytes32 digest = keccak256(
            abi.encodePacked("\x19\x01", _domainSeparator(forwarder), _requestHash(forwarder, from, to, deadline, data))
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        req = ERC2771Forwarder.ForwardRequestData({
            from: from,
            to: to,
            value: 0,
            gas: 1_000_000,
            deadline: deadline,
            data: data,
            signature: abi.encodePacked(r, s, v)
        });
    }
}

/// @notice Records every hook call, to check the token makes them.
contract RecordingHooks is IConsentHooks {
    uint256 public granted;
    uint256 public revoked;
    uint256 public lastStudy;
    address public lastHolder;
    uint64 public lastExpiry;

    function onConsentGranted(uint256 studyId, address holder, uint64 expiresAt) external {
        ++granted;
        (lastStudy, lastHolder, lastExpiry) = (studyId, holder, expiresAt);
    }

    function onConsentRevoked(uint256 studyId, address holder) external {
        ++revoked;
        (lastStudy, lastHolder) = (studyId, holder);
    }
}

contract ConsentTokenTest is ForwardRequests {
    address internal constant ADMIN = address(0xAD);
    address internal constant MINTER = address(0x5EC);
    address internal constant HOLDER = address(0xB0B);
    address internal constant OTHER = address(0xCAFE);
    uint64 internal constant DAY = 1 days;

    ERC2771Forwarder internal forwarder;
    ConsentToken internal token;

    function setUp() public {
        vm.warp(1_800_000_000);
        forwarder = new ERC2771Forwarder("Consentry Forwarder");
        token = new ConsentToken(ADMIN, address(forwarder), "");
        bytes32 role = token.MINTER_ROLE();
        vm.prank(ADMIN);
        token.grantRole(role, MINTER);
    }

    function _mint(address holder, uint256 studyId, uint64 expiresAt) internal {
        vm.prank(MINTER);
        token.mint(holder, studyId, expiresAt);
    }

    function _now() internal view returns (uint64) {
        return uint64(block.timestamp);
    }

    // ---------------------------------------------------------------- constructor, roles

    function test_constructor_zeroAdmin_reverts() public {
        vm.expectRevert(IConsentToken.ConsentToken__ZeroAddress.selector);
        new ConsentToken(address(0), address(forwarder), "");
    }

    function test_constructor_wiring() public view {
        assertTrue(token.hasRole(token.DEFAULT_ADMIN_ROLE(), ADMIN));
        assertTrue(token.isTrustedForwarder(address(forwarder)));
        assertEq(address(token.hooks()), address(0));
        assertTrue(token.supportsInterface(0xd9b67a26)); // ERC-1155
        assertTrue(token.supportsInterface(type(IAccessControl).interfaceId));
    }

    // ---------------------------------------------------------------- mint

    function test_mint_grants() public {
        vm.expectEmit(true, true, false, true, address(token));
        emit IConsentToken.ConsentGranted(7, HOLDER, _now() + DAY);
        _mint(HOLDER, 7, _now() + DAY);
        assertEq(token.balanceOf(HOLDER, 7), 1);
        assertEq(token.expiresAt(HOLDER, 7), _now() + DAY);
        assertTrue(token.isActive(HOLDER, 7));
        assertFalse(token.isActive(HOLDER, 8));
        assertFalse(token.isRevoked(HOLDER, 7));
    }

    function test_mint_notMinter_reverts() public {
        bytes32 role = token.MINTER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, OTHER, role));
        vm.prank(OTHER);
        token.mint(HOLDER, 1, _now() + DAY);
    }

    function test_mint_twice_reverts() public {
        _mint(HOLDER, 1, _now() + DAY);
        vm.expectRevert(abi.encodeWithSelector(IConsentToken.ConsentToken__AlreadyGranted.selector, 1, HOLDER));
        _mint(HOLDER, 1, _now() + DAY);
        // Not even after a revocation: one token per participant per study, ever.
        vm.prank(HOLDER);
        token.revoke(1);
        vm.expectRevert(abi.encodeWithSelector(IConsentToken.ConsentToken__AlreadyGranted.selector, 1, HOLDER));
        _mint(HOLDER, 1, _now() + DAY);
    }

    function test_mint_expiryNotInFuture_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IConsentToken.ConsentToken__InvalidExpiry.selector, _now()));
        _mint(HOLDER, 1, _now());
    }

    function test_mint_zeroHolder_reverts() public {
        vm.expectRevert(IConsentToken.ConsentToken__ZeroAddress.selector);
        _mint(address(0), 1, _now() + DAY);
    }

    // ---------------------------------------------------------------- non-transferable

    function test_transfer_reverts() public {
        _mint(HOLDER, 1, _now() + DAY);
        vm.startPrank(HOLDER);
        vm.expectRevert(IConsentToken.ConsentToken__NonTransferable.selector);
        token.safeTransferFrom(HOLDER, OTHER, 1, 1, "");
        uint256[] memory ids = new uint256[](1);
        uint256[] memory values = new uint256[](1);
        ids[0] = 1;
        values[0] = 1;
        vm.expectRevert(IConsentToken.ConsentToken__NonTransferable.selector);
        token.safeBatchTransferFrom(HOLDER, OTHER, ids, values, "");
        vm.stopPrank();
        assertEq(token.balanceOf(HOLDER, 1), 1);
    }

    function testFuzz_transfer_alwaysReverts(address from, address to, uint256 studyId, uint256 value) public {
        vm.assume(from != address(0) && to != address(0) && from.code.length == 0);
        vm.assume(from != address(forwarder));
        _mint(from, studyId, _now() + DAY);
        vm.prank(from);
        vm.expectRevert(IConsentToken.ConsentToken__NonTransferable.selector);
        token.safeTransferFrom(from, to, studyId, bound(value, 0, 1), "");
        assertEq(token.balanceOf(from, studyId), 1);
    }

    function testFuzz_setApprovalForAll_alwaysReverts(address owner, address operator, bool approved) public {
        vm.prank(owner);
        vm.expectRevert(IConsentToken.ConsentToken__ApprovalsDisabled.selector);
        token.setApprovalForAll(operator, approved);
        assertFalse(token.isApprovedForAll(owner, operator));
    }

    // ---------------------------------------------------------------- expiry

    function testFuzz_isActive_byBlockTime(uint64 duration, uint64 elapsed) public {
        duration = uint64(bound(duration, 1, 100 * 365 days));
        elapsed = uint64(bound(elapsed, 0, 200 * 365 days));
        uint64 expiry = _now() + duration;
        _mint(HOLDER, 1, expiry);
        vm.warp(block.timestamp + elapsed);
        assertEq(token.isActive(HOLDER, 1), block.timestamp < expiry);
        assertEq(token.balanceOf(HOLDER, 1), 1); // expiry burns nothing
    }

    function test_isActive_edge() public {
        _mint(HOLDER, 1, _now() + DAY);
        vm.warp(block.timestamp + DAY - 1);
        assertTrue(token.isActive(HOLDER, 1));
        vm.warp(block.timestamp + 1);
        assertFalse(token.isActive(HOLDER, 1));
    }

    // ---------------------------------------------------------------- revoke

    function test_revoke_byHolder_burns() public {
        _mint(HOLDER, 1, _now() + DAY);
        vm.expectEmit(true, true, false, true, address(token));
        emit IConsentToken.ConsentRevoked(1, HOLDER);
        vm.prank(HOLDER);
        token.revoke(1);
        assertEq(token.balanceOf(HOLDER, 1), 0);
        assertTrue(token.isRevoked(HOLDER, 1));
        assertFalse(token.isActive(HOLDER, 1));
        assertEq(token.expiresAt(HOLDER, 1), _now() + DAY);
    }

    function test_revoke_afterExpiry_allowed() public {
        _mint(HOLDER, 1, _now() + DAY);
        vm.warp(block.timestamp + 2 * DAY);
        vm.prank(HOLDER);
        token.revoke(1);
        assertTrue(token.isRevoked(HOLDER, 1));
    }

    function testFuzz_revoke_byAnyoneElse_reverts(address caller) public {
        vm.assume(caller != HOLDER && caller != address(forwarder));
        _mint(HOLDER, 1, _now() + DAY);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IConsentToken.ConsentToken__NotHeld.selector, 1, caller));
        token.revoke(1);
        assertTrue(token.isActive(HOLDER, 1));
    }

    function test_revoke_twice_reverts() public {
        _mint(HOLDER, 1, _now() + DAY);
        vm.startPrank(HOLDER);
        token.revoke(1);
        vm.expectRevert(abi.encodeWithSelector(IConsentToken.ConsentToken__NotHeld.selector, 1, HOLDER));
        token.revoke(1);
        vm.stopPrank();
    }

    function test_revoke_throughForwarder_actsForTheSigner() public {
        uint256 key = 0xA11CE5;
        address holder = vm.addr(key);
        _mint(holder, 3, _now() + DAY);
        ERC2771Forwarder.ForwardRequestData memory req =
            _signedRequest(forwarder, key, address(token), abi.encodeCall(IConsentToken.revoke, (3)));
        vm.expectEmit(true, true, false, true, address(token));
        emit IConsentToken.ConsentRevoked(3, holder);
        vm.prank(OTHER); // the relayer pays the gas; the holder has no ether
        forwarder.execute(req);
        assertTrue(token.isRevoked(holder, 3));
        assertEq(token.balanceOf(holder, 3), 0);
    }

    // ---------------------------------------------------------------- hooks

    function test_hooks_calledOnGrantAndRevoke() public {
        RecordingHooks hooks = new RecordingHooks();
        vm.expectEmit(true, false, false, false, address(token));
        emit IConsentToken.HooksSet(address(hooks));
        vm.prank(ADMIN);
        token.setHooks(hooks);
        _mint(HOLDER, 5, _now() + DAY);
        assertEq(hooks.granted(), 1);
        assertEq(hooks.lastStudy(), 5);
        assertEq(hooks.lastHolder(), HOLDER);
        assertEq(hooks.lastExpiry(), _now() + DAY);
        vm.prank(HOLDER);
        token.revoke(5);
        assertEq(hooks.revoked(), 1);
        assertEq(hooks.lastHolder(), HOLDER);
    }

    function test_setHooks_once_adminOnly() public {
        RecordingHooks hooks = new RecordingHooks();
        RecordingHooks other = new RecordingHooks();
        bytes32 adminRole = token.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, OTHER, adminRole)
        );
        vm.prank(OTHER);
        token.setHooks(hooks);
        vm.startPrank(ADMIN);
        vm.expectRevert(IConsentToken.ConsentToken__ZeroAddress.selector);
        token.setHooks(IConsentHooks(address(0)));
        token.setHooks(hooks);
        vm.expectRevert(abi.encodeWithSelector(IConsentToken.ConsentToken__HooksAlreadySet.selector, address(hooks)));
        token.setHooks(other);
        vm.stopPrank();
    }
}
