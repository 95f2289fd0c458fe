// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ITestToken} from "./interfaces/ITestToken.sol";

/// @title TestToken
/// @notice Consentry Test USD: the local chain's payment token for studies, with a capped faucet.
/// @dev Constructor: no arguments; reverts unless block.chainid == 31337 (anvil).
contract TestToken is ITestToken, ERC20 {
    /// @inheritdoc ITestToken
    uint256 public constant FAUCET_CAP = 1_000_000 * 10 ** 6;
    /// @inheritdoc ITestToken
    uint256 public constant LOCAL_CHAIN_ID = 31337;

    constructor() ERC20("Consentry Test USD", "tUSD") {
        if (block.chainid != LOCAL_CHAIN_ID) revert TestToken__NotLocalChain(block.chainid);
    }

    /// @notice 6, like the US dollar stablecoins it stands in for.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @inheritdoc ITestToken
    function faucet(address to, uint256 amount) external {
        if (to == address(0)) revert TestToken__ZeroAddress();
        if (amount > FAUCET_CAP) revert TestToken__OverFaucetCap(amount, FAUCET_CAP);
        _mint(to, amount);
        emit FaucetMinted(msg.sender, to, amount);
    }
}
