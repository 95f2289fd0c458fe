// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title ITestToken
/// @notice "Consentry Test USD" (tUSD, 6 decimals): a plain ERC-20 with a faucet, for tests and
///         demos on the local chain only. It has no value and is never deployed elsewhere.
interface ITestToken is IERC20 {
    /// @notice The constructor refuses any chain but the local one (31337).
    error TestToken__NotLocalChain(uint256 chainId);
    /// @notice A faucet call asked for more than FAUCET_CAP.
    error TestToken__OverFaucetCap(uint256 amount, uint256 cap);
    /// @notice The faucet was asked to mint to the zero address.
    error TestToken__ZeroAddress();

    /// @notice `amount` was minted to `to` by the faucet, at `caller`'s request.
    event FaucetMinted(address indexed caller, address indexed to, uint256 amount);

    /// @notice Mint `amount` (at most FAUCET_CAP) to `to`. Anyone may call, as often as they like.
    function faucet(address to, uint256 amount) external;

    /// @notice The most one faucet call mints: 1,000,000 tUSD (10^12 base units).
    function FAUCET_CAP() external view returns (uint256);

    /// @notice The only chain id this token deploys on.
    function LOCAL_CHAIN_ID() external view returns (uint256);
}
