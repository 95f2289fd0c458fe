// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
// Imported so forge builds OpenZeppelin's forwarder artifact, which the relayer's tests deploy.
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/**
 * @notice Test helper (not deployed outside tests): an ERC-2771 recipient for the relayer's tests.
 * It records who it saw as the sender, and refuses a zero with a custom error, so a test can show a
 * relayed call keeps the signer as `_msgSender()` and that a would-be revert is caught, with its
 * reason, before anything is sent.
 */
contract RelayTarget is ERC2771Context {
    /// @notice The value is refused (zero).
    error RelayTarget__Refused(uint256 value);

    /// @notice A call was recorded for `sender`.
    event Pinged(address indexed sender, uint256 value);

    /// @notice How many calls each sender made, and the last sender seen.
    mapping(address sender => uint256 calls) public callsBy;
    address public lastSender;

    constructor(address forwarder) ERC2771Context(forwarder) {}

    /// @notice Records the sender (the signer when relayed); refuses zero.
    function ping(uint256 value) external {
        if (value == 0) revert RelayTarget__Refused(value);
        address sender = _msgSender();
        lastSender = sender;
        callsBy[sender] += 1;
        emit Pinged(sender, value);
    }

    /// @notice Not on the relayer's allow-list in the tests.
    function other() external {
        lastSender = _msgSender();
    }
}
