// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {ConsentToken} from "../../src/ConsentToken.sol";
import {IStudyMarket} from "../../src/interfaces/IStudyMarket.sol";

/**
 * @notice Test helper (not deployed outside tests): how the market's tests build a cohort and have
 * it bought, shared by the unit suite's fixture (StudyMarket.t.sol) and the invariant handler
 * (invariant/StudyMarketHandler.sol) so both drive the market the same way. Internal functions:
 * they run in the caller's context, so the caller is the one holding MINTER_ROLE.
 */
library MarketCohort {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice Grants `holder` consent to `studyId` from now for `duration`, as StudyRegistry.enroll
    ///         does (each real enrollment needs a fresh zero-knowledge proof; the mint is the same).
    function grant(ConsentToken consent, address holder, uint256 studyId, uint64 duration) internal {
        consent.mint(holder, studyId, uint64(block.timestamp) + duration);
    }

    /// @notice The committee's signatures confirming `purchaseId` with `releaseHash`: those of the
    ///         first `n` of `memberKeys`, ordered by ascending signer address as confirm requires.
    function confirmSignatures(
        IStudyMarket market,
        uint256[] memory memberKeys,
        uint256 purchaseId,
        bytes32 releaseHash,
        uint256 n
    ) internal view returns (bytes[] memory sigs) {
        IStudyMarket.Purchase memory p = market.purchaseOf(purchaseId);
        bytes32 digest = market.confirmDigest(purchaseId, p.studyId, p.buyer, releaseHash);
        uint256[] memory pks = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) pks[i] = memberKeys[i];
        for (uint256 i = 0; i < n; ++i) {
            for (uint256 j = i + 1; j < n; ++j) {
                if (VM.addr(pks[j]) < VM.addr(pks[i])) (pks[i], pks[j]) = (pks[j], pks[i]);
            }
        }
        sigs = new bytes[](n);
        for (uint256 i = 0; i < n; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = VM.sign(pks[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }
}
