// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {PatientRegistry} from "../src/PatientRegistry.sol";
import {IPatientRegistry} from "../src/interfaces/IPatientRegistry.sol";
import {X25519Key} from "../src/libraries/X25519Key.sol";

contract PatientRegistryTest is Test {
    PatientRegistry internal registry;

    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    // RFC 7748 section 6.1 public keys (little-endian u-coordinates).
    bytes32 internal constant KEY_A = 0x8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a;
    bytes32 internal constant KEY_B = 0xde9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f;

    function setUp() public {
        registry = new PatientRegistry();
    }

    // ---------------------------------------------------------------- register

    function test_register_storesKeyAndEmits() public {
        vm.warp(1_700_000_000);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IPatientRegistry.PatientRegistered(ALICE, KEY_A);
        vm.prank(ALICE);
        registry.register(KEY_A);

        assertTrue(registry.isRegistered(ALICE));
        assertEq(registry.encryptionKeyOf(ALICE), KEY_A);
        assertEq(registry.registeredAt(ALICE), 1_700_000_000);
        assertEq(registry.patientCount(), 1);
        assertFalse(registry.isRegistered(BOB));
    }

    function test_register_twice_reverts() public {
        vm.startPrank(ALICE);
        registry.register(KEY_A);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__AlreadyRegistered.selector, ALICE));
        registry.register(KEY_B);
        vm.stopPrank();
        assertEq(registry.encryptionKeyOf(ALICE), KEY_A);
        assertEq(registry.patientCount(), 1);
    }

    function test_register_zeroKey_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidKey.selector, bytes32(0)));
        vm.prank(ALICE);
        registry.register(bytes32(0));
        assertFalse(registry.isRegistered(ALICE));
    }

    function test_register_lowOrderPoints_revert() public {
        bytes32[6] memory bad = [
            bytes32(0x0100000000000000000000000000000000000000000000000000000000000000), // u = 1
            bytes32(0xe0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800), // order 8
            bytes32(0x5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157), // order 8
            bytes32(0xecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f), // u = p - 1
            bytes32(0xedffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f), // u = p (non-canonical)
            bytes32(0x0000000000000000000000000000000000000000000000000000000000000080) // high bit set
        ];
        for (uint256 i = 0; i < bad.length; i++) {
            vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidKey.selector, bad[i]));
            vm.prank(ALICE);
            registry.register(bad[i]);
        }
        assertEq(registry.patientCount(), 0);
    }

    // ---------------------------------------------------------------- rotate

    function test_rotate_replacesKeyAndEmits() public {
        vm.prank(ALICE);
        registry.register(KEY_A);
        vm.expectEmit(true, false, false, true, address(registry));
        emit IPatientRegistry.EncryptionKeyRotated(ALICE, KEY_A, KEY_B);
        vm.prank(ALICE);
        registry.rotateEncryptionKey(KEY_B);
        assertEq(registry.encryptionKeyOf(ALICE), KEY_B);
        assertEq(registry.patientCount(), 1);
    }

    function test_rotate_unregistered_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotController.selector, BOB));
        vm.prank(BOB);
        registry.rotateEncryptionKey(KEY_B);
    }

    function test_rotate_sameKey_reverts() public {
        vm.startPrank(ALICE);
        registry.register(KEY_A);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__SameKey.selector, KEY_A));
        registry.rotateEncryptionKey(KEY_A);
        vm.stopPrank();
    }

    function test_rotate_invalidKey_reverts() public {
        vm.startPrank(ALICE);
        registry.register(KEY_A);
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidKey.selector, bytes32(0)));
        registry.rotateEncryptionKey(bytes32(0));
        vm.stopPrank();
        assertEq(registry.encryptionKeyOf(ALICE), KEY_A);
    }

    function test_encryptionKeyOf_unregistered_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__NotRegistered.selector, BOB));
        registry.encryptionKeyOf(BOB);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_register_acceptsExactlyValidKeys(address patient, bytes32 key) public {
        vm.assume(patient != address(0));
        bool valid = X25519Key.isValid(key);
        if (!valid) {
            vm.expectRevert(abi.encodeWithSelector(IPatientRegistry.PatientRegistry__InvalidKey.selector, key));
        }
        vm.prank(patient);
        registry.register(key);
        assertEq(registry.isRegistered(patient), valid);
        assertEq(registry.patientCount(), valid ? 1 : 0);
    }

    function testFuzz_isValid_matchesDefinition(bytes32 key) public pure {
        uint256 u = X25519Key.toU(key);
        bool expected = u < X25519Key.P && u > 1 && u != X25519Key.P - 1 && u != X25519Key.LOW_ORDER_A
            && u != X25519Key.LOW_ORDER_B;
        assertEq(X25519Key.isValid(key), expected);
    }

    function testFuzz_toU_reversesBytes(bytes32 key) public pure {
        uint256 u = X25519Key.toU(key);
        for (uint256 i = 0; i < 32; i++) {
            // byte i of the little-endian encoding is bits [8i, 8i+8) of u
            assertEq(uint8(key[i]), uint8(u >> (8 * i)));
        }
    }

    function testFuzz_manyPatients_countAndKeysIndependent(uint8 n, bytes32 seed) public {
        n = uint8(bound(n, 1, 40));
        for (uint256 i = 0; i < n; i++) {
            address p = address(uint160(uint256(keccak256(abi.encode(seed, i))) | 1));
            bytes32 key = _validKey(keccak256(abi.encode(seed, i, "key")));
            vm.prank(p);
            registry.register(key);
            assertEq(registry.encryptionKeyOf(p), key);
        }
        assertEq(registry.patientCount(), n);
    }

    function testFuzz_rotate_thenOldKeyGone(bytes32 a, bytes32 b) public {
        bytes32 keyA = _validKey(a);
        bytes32 keyB = _validKey(b);
        vm.assume(keyA != keyB);
        vm.startPrank(ALICE);
        registry.register(keyA);
        registry.rotateEncryptionKey(keyB);
        vm.stopPrank();
        assertEq(registry.encryptionKeyOf(ALICE), keyB);
    }

    /// @dev Clears the top bit and avoids the tiny set of excluded values, like a real clamped key.
    function _validKey(bytes32 raw) internal pure returns (bytes32 key) {
        key = raw & bytes32(0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3f);
        key |= bytes32(uint256(0x0200000000000000000000000000000000000000000000000000000000000000));
    }
}
