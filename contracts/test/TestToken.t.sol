// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {TestToken} from "../src/TestToken.sol";
import {ITestToken} from "../src/interfaces/ITestToken.sol";

contract TestTokenTest is Test {
    TestToken internal token;
    address internal constant ALICE = address(0xA11CE);

    function setUp() public {
        vm.chainId(31337);
        token = new TestToken();
    }

    function test_metadata() public view {
        assertEq(token.name(), "Consentry Test USD");
        assertEq(token.symbol(), "tUSD");
        assertEq(token.decimals(), 6);
        assertEq(token.totalSupply(), 0);
        assertEq(token.FAUCET_CAP(), 1_000_000e6);
    }

    function test_constructor_refusesOtherChains() public {
        vm.chainId(1);
        vm.expectRevert(abi.encodeWithSelector(ITestToken.TestToken__NotLocalChain.selector, 1));
        new TestToken();
        vm.chainId(11155111);
        vm.expectRevert(abi.encodeWithSelector(ITestToken.TestToken__NotLocalChain.selector, 11155111));
        new TestToken();
    }

    function test_faucet_mintsToAnyAddress() public {
        vm.expectEmit(address(token));
        emit ITestToken.FaucetMinted(address(this), ALICE, 250e6);
        token.faucet(ALICE, 250e6);
        assertEq(token.balanceOf(ALICE), 250e6);
        assertEq(token.totalSupply(), 250e6);
    }

    function test_faucet_capIsPerCall() public {
        token.faucet(ALICE, 1_000_000e6);
        token.faucet(ALICE, 1_000_000e6);
        assertEq(token.balanceOf(ALICE), 2_000_000e6);
    }

    function test_faucet_revertsOverCap() public {
        vm.expectRevert(abi.encodeWithSelector(ITestToken.TestToken__OverFaucetCap.selector, 1_000_000e6 + 1, 1_000_000e6));
        token.faucet(ALICE, 1_000_000e6 + 1);
    }

    function test_faucet_revertsToZero() public {
        vm.expectRevert(ITestToken.TestToken__ZeroAddress.selector);
        token.faucet(address(0), 1);
    }

    function testFuzz_faucet(address to, uint256 amount) public {
        vm.assume(to != address(0));
        amount = bound(amount, 0, token.FAUCET_CAP());
        token.faucet(to, amount);
        assertEq(token.balanceOf(to), amount);
    }

    function test_transfer_isAPlainErc20() public {
        token.faucet(ALICE, 10e6);
        vm.prank(ALICE);
        assertTrue(token.transfer(address(this), 4e6));
        assertEq(token.balanceOf(ALICE), 6e6);
        assertEq(token.balanceOf(address(this)), 4e6);
    }
}
