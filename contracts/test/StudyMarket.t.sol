// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";
import {StudyMarket} from "../src/StudyMarket.sol";
import {IStudyMarket} from "../src/interfaces/IStudyMarket.sol";
import {ConsentToken} from "../src/ConsentToken.sol";
import {ReleaseCommittee} from "../src/ReleaseCommittee.sol";
import {IReleaseCommittee} from "../src/interfaces/IReleaseCommittee.sol";
import {IStudyRegistry} from "../src/interfaces/IStudyRegistry.sol";
import {TestToken} from "../src/TestToken.sol";
import {StudyRegistry} from "../src/StudyRegistry.sol";
import {OrganizationRegistry} from "../src/OrganizationRegistry.sol";
import {IOrganizationRegistry} from "../src/interfaces/IOrganizationRegistry.sol";
import {IConsentToken} from "../src/interfaces/IConsentToken.sol";
import {IEligibilityVerifier} from "../src/interfaces/IEligibilityVerifier.sol";
import {MarketCohort} from "./helpers/MarketCohort.sol";

/// @dev The deployed set every market test uses, all real: StudyRegistry (studies registered by a
///      researcher and decided by an accredited IRB of the OrganizationRegistry), ConsentToken,
///      ReleaseCommittee (3 members, threshold 2), ERC2771Forwarder and TestToken. Enrollment is the
///      one step not taken through StudyRegistry.enroll (each needs a fresh zero-knowledge proof): the
///      suite holds the ConsentToken's MINTER_ROLE beside the registry and mints as enroll does
///      (expiresAt = now + the study's consent duration), so the market's hooks are called by the
///      real token exactly as in production.
abstract contract StudyMarketFixture is Test {
    uint256 internal constant STUDY = 1;
    uint256 internal constant PRICE = 5e6; // 5 tUSD per participant
    uint64 internal constant DURATION = 180 days;
    uint64 internal constant WINDOW = 3 days;
    uint32 internal constant K = 3;

    StudyMarket internal market;
    ConsentToken internal consent;
    ReleaseCommittee internal committee;
    ERC2771Forwarder internal forwarder;
    TestToken internal usd;
    StudyRegistry internal studies;
    OrganizationRegistry internal orgs;

    address internal constant ADMIN = address(0xAD);
    address internal constant ACCREDITOR = address(0xACC);
    address internal constant IRB = address(0x12B);
    /// @dev Never called here (no enrollment goes through the registry in these tests).
    address internal constant UNUSED_VERIFIER = address(0xE1);
    address internal buyer = makeAddr("researcher");
    uint256[] internal memberKeys;
    uint256 internal holderSeq;

    function _deploy() internal {
        vm.chainId(31337);
        vm.warp(1_800_000_000);
        usd = new TestToken();
        committee = new ReleaseCommittee(ADMIN);
        forwarder = new ERC2771Forwarder("Consentry Forwarder");
        consent = new ConsentToken(ADMIN, address(forwarder), "");
        orgs = new OrganizationRegistry(ADMIN, ACCREDITOR);
        studies = new StudyRegistry(
            address(forwarder), IEligibilityVerifier(UNUSED_VERIFIER), IConsentToken(address(consent)), orgs
        );
        market = new StudyMarket(studies, IReleaseCommittee(address(committee)), address(consent), address(forwarder), WINDOW);
        vm.prank(IRB);
        orgs.register(IOrganizationRegistry.Kind.IRB, keccak256("irb"), bytes32(0));
        vm.prank(ACCREDITOR);
        orgs.accredit(IRB, uint64(block.timestamp + 3650 days));
        vm.startPrank(ADMIN);
        consent.grantRole(consent.MINTER_ROLE(), address(this));
        consent.setHooks(market);
        for (uint256 i = 1; i <= 3; ++i) {
            uint256 pk = uint256(keccak256(abi.encode("committee member", i))) % (2 ** 200) + 1;
            memberKeys.push(pk);
            committee.addMember(vm.addr(pk), _x25519(i), i == 1 ? 1 : 2);
        }
        vm.stopPrank();
        assertEq(_newStudy(PRICE, K, true), STUDY);
        usd.faucet(buyer, 1_000_000e6);
        vm.prank(buyer);
        usd.approve(address(market), type(uint256).max);
    }

    function _x25519(uint256 seed) internal pure returns (bytes32 key) {
        key = keccak256(abi.encode("member key", seed))
            & bytes32(0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff3f);
        key |= bytes32(uint256(0x0200000000000000000000000000000000000000000000000000000000000000));
    }

    /// @dev Registers a study as the researcher (`buyer`) and, if `approve`, has the IRB approve it.
    function _newStudy(uint256 price, uint32 k, bool approve) internal returns (uint256 studyId) {
        vm.prank(buyer);
        studyId = studies.createStudy(
            IStudyRegistry.StudyParams({
                metadataHash: keccak256("study document"),
                protocolHash: keccak256("protocol"),
                consentHash: keccak256("consent"),
                criteriaHash: 12345,
                categories: 0x5,
                paymentToken: price == 0 ? address(0) : address(usd),
                pricePerParticipant: price,
                consentDuration: DURATION,
                minCohort: k,
                maxParticipants: 10_000
            })
        );
        if (approve) {
            vm.prank(IRB);
            studies.approve(studyId, keccak256("rationale"));
        }
    }

    /// @dev A fresh per-study holder granted consent now, as StudyRegistry.enroll does.
    function _enroll(uint256 studyId) internal returns (address holder) {
        holder = address(uint160(uint256(keccak256(abi.encode("holder", ++holderSeq)))));
        MarketCohort.grant(consent, holder, studyId, studies.studyOf(studyId).consentDuration);
    }

    function _enrollMany(uint256 studyId, uint256 n) internal returns (address[] memory holders) {
        holders = new address[](n);
        for (uint256 i = 0; i < n; ++i) holders[i] = _enroll(studyId);
    }

    function _buy(uint256 studyId) internal returns (uint256 id) {
        vm.prank(buyer);
        id = market.purchase(studyId);
    }

    /// @dev Signatures of the first `n` members, sorted by ascending signer address.
    function _sigs(uint256 purchaseId, bytes32 releaseHash, uint256 n) internal view returns (bytes[] memory) {
        return MarketCohort.confirmSignatures(market, memberKeys, purchaseId, releaseHash, n);
    }

    function _confirm(uint256 purchaseId) internal {
        market.confirm(purchaseId, keccak256(abi.encode("release", purchaseId)), _sigs(purchaseId, keccak256(abi.encode("release", purchaseId)), 2));
    }
}

contract StudyMarketTest is StudyMarketFixture {
    bytes32 internal constant RELEASE = keccak256("release manifest");

    function setUp() public {
        _deploy();
    }

    // ---------------------------------------------------------------- constructor

    function test_constructor_refusesZeroes() public {
        IStudyRegistry r = studies;
        IReleaseCommittee c = IReleaseCommittee(address(committee));
        vm.expectRevert(IStudyMarket.StudyMarket__ZeroAddress.selector);
        new StudyMarket(IStudyRegistry(address(0)), c, address(consent), address(forwarder), WINDOW);
        vm.expectRevert(IStudyMarket.StudyMarket__ZeroAddress.selector);
        new StudyMarket(r, IReleaseCommittee(address(0)), address(consent), address(forwarder), WINDOW);
        vm.expectRevert(IStudyMarket.StudyMarket__ZeroAddress.selector);
        new StudyMarket(r, c, address(0), address(forwarder), WINDOW);
        vm.expectRevert(IStudyMarket.StudyMarket__ZeroAddress.selector);
        new StudyMarket(r, c, address(consent), address(0), WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__InvalidWindow.selector, 0));
        new StudyMarket(r, c, address(consent), address(forwarder), 0);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__InvalidWindow.selector, 90 days + 1));
        new StudyMarket(r, c, address(consent), address(forwarder), 90 days + 1);
        new StudyMarket(r, c, address(consent), address(forwarder), 90 days);
    }

    function test_constructor_window() public view {
        assertEq(market.confirmationWindow(), WINDOW);
        assertTrue(market.isTrustedForwarder(address(forwarder)));
    }

    // ---------------------------------------------------------------- hooks

    function test_hooks_onlyConsentToken() public {
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NotConsentToken.selector, address(this)));
        market.onConsentGranted(STUDY, address(1), uint64(block.timestamp + 1));
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NotConsentToken.selector, address(this)));
        market.onConsentRevoked(STUDY, address(1));
    }

    function test_grant_countsHolder() public {
        vm.expectEmit(address(market));
        emit IStudyMarket.HolderJoined(STUDY, address(uint160(uint256(keccak256(abi.encode("holder", uint256(1)))))), uint64(block.timestamp) + DURATION);
        _enroll(STUDY);
        _enroll(STUDY);
        assertEq(market.activeCountOf(STUDY), 2);
    }

    function test_grant_refusesDecreasingExpiry() public {
        consent.mint(address(0xB0B), STUDY, uint64(block.timestamp) + DURATION);
        uint64 earlier = uint64(block.timestamp) + DURATION - 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IStudyMarket.StudyMarket__ExpiryOutOfOrder.selector, STUDY, earlier, uint64(block.timestamp) + DURATION
            )
        );
        consent.mint(address(0xCAFE), STUDY, earlier);
    }

    function test_revoke_stopsCounting_andTwiceIsHarmless() public {
        address[] memory h = _enrollMany(STUDY, 2);
        vm.expectEmit(address(market));
        emit IStudyMarket.HolderLeft(STUDY, h[0], false);
        vm.prank(h[0]);
        consent.revoke(STUDY);
        assertEq(market.activeCountOf(STUDY), 1);
    }

    // ---------------------------------------------------------------- purchase

    function test_purchase_escrowsPriceTimesActive() public {
        _enrollMany(STUDY, 4);
        uint256 before = usd.balanceOf(buyer);
        vm.expectEmit(address(market));
        emit IStudyMarket.Purchased(1, STUDY, buyer, 4, PRICE, 4 * PRICE, uint64(block.timestamp) + WINDOW);
        uint256 id = _buy(STUDY);
        assertEq(id, 1);
        assertEq(usd.balanceOf(buyer), before - 4 * PRICE);
        assertEq(usd.balanceOf(address(market)), 4 * PRICE);
        IStudyMarket.Purchase memory p = market.purchaseOf(id);
        assertEq(uint8(p.status), uint8(IStudyMarket.PurchaseStatus.Pending));
        assertEq(p.cohort, 4);
        assertEq(p.amount, 4 * PRICE);
        assertEq(market.pendingPurchaseOf(STUDY), id);
        assertEq(market.purchaseCount(), 1);
        assertEq(p.createdAt, block.timestamp);
        assertEq(p.token, address(usd));
        assertEq(market.purchaseOf(2).buyer, address(0));
    }

    function test_purchase_revertsBelowK() public {
        _enrollMany(STUDY, 2);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__CohortTooSmall.selector, STUDY, 2, K));
        market.purchase(STUDY);
    }

    function test_purchase_revertsWithNoHolders() public {
        uint256 id = _newStudy(PRICE, 1, true);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__CohortTooSmall.selector, id, 0, 1));
        market.purchase(id);
    }

    function test_purchase_revokedHoldersDoNotCount() public {
        address[] memory h = _enrollMany(STUDY, 3);
        vm.prank(h[1]);
        consent.revoke(STUDY);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__CohortTooSmall.selector, STUDY, 2, K));
        market.purchase(STUDY);
    }

    function test_purchase_checkpointsExpiredHolders() public {
        _enrollMany(STUDY, 2);
        vm.warp(block.timestamp + 10 days);
        _enrollMany(STUDY, 3);
        vm.warp(block.timestamp + DURATION - 5 days); // the first two expired, the last three not
        uint256 id = _buy(STUDY);
        assertEq(market.purchaseOf(id).cohort, 3);
        assertEq(market.activeCountOf(STUDY), 3);
    }

    function test_purchase_refusedStatuses() public {
        uint256 pending = _newStudy(PRICE, K, false);
        uint256 rejected = _newStudy(PRICE, K, false);
        vm.prank(IRB);
        studies.reject(rejected, keccak256("no"));
        uint256 suspended = _newStudy(PRICE, K, true);
        vm.prank(IRB);
        studies.suspend(suspended, keccak256("stop"));
        uint256[3] memory refused = [pending, rejected, suspended];
        for (uint256 i = 0; i < 3; ++i) {
            _enrollMany(refused[i], 3);
            vm.prank(buyer);
            vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NotPurchasable.selector, refused[i]));
            market.purchase(refused[i]);
        }
    }

    function test_purchase_pausedAndClosedStudiesSellTheirCohort() public {
        _enrollMany(STUDY, 3);
        vm.prank(buyer);
        studies.pause(STUDY);
        _confirm(_buy(STUDY));
        vm.prank(buyer);
        studies.close(STUDY);
        _confirm(_buy(STUDY));
        assertEq(market.rewardPerTokenOf(STUDY), 2 * PRICE);
    }

    function test_purchase_onePendingPerStudy() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__PurchasePending.selector, STUDY, id));
        market.purchase(STUDY);
    }

    function test_purchase_unpricedStudyRefused() public {
        uint256 free = _newStudy(0, K, true);
        _enrollMany(free, 3);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__InvalidPrice.selector, free));
        market.purchase(free);
    }

    function test_purchase_withoutAllowanceReverts() public {
        _enrollMany(STUDY, 3);
        address poor = makeAddr("poor");
        vm.prank(poor);
        vm.expectRevert();
        market.purchase(STUDY);
        assertEq(market.pendingPurchaseOf(STUDY), 0);
    }

    function test_purchase_gasFlatInCohort() public {
        _enrollMany(STUDY, 10);
        assertEq(_newStudy(PRICE, K, true), 2);
        _enrollMany(2, 1000);
        // One confirmed purchase each first, so both measured purchases find the same warm slots.
        _confirm(_buy(STUDY));
        _confirm(_buy(2));
        vm.startPrank(buyer);
        uint256 g0 = gasleft();
        market.purchase(STUDY);
        uint256 small = g0 - gasleft();
        g0 = gasleft();
        market.purchase(2);
        uint256 large = g0 - gasleft();
        vm.stopPrank();
        assertApproxEqRel(large, small, 0.05e18);
    }

    // ---------------------------------------------------------------- confirm

    function test_confirm_creditsEachHolderThePrice() public {
        address[] memory h = _enrollMany(STUDY, 4);
        uint256 id = _buy(STUDY);
        bytes[] memory sigs = _sigs(id, RELEASE, 2);
        vm.expectEmit(address(market));
        emit IStudyMarket.PurchaseConfirmed(id, STUDY, RELEASE, PRICE);
        market.confirm(id, RELEASE, sigs);
        for (uint256 i = 0; i < 4; ++i) assertEq(market.claimable(STUDY, h[i]), PRICE);
        IStudyMarket.Purchase memory p = market.purchaseOf(id);
        assertEq(uint8(p.status), uint8(IStudyMarket.PurchaseStatus.Confirmed));
        assertEq(p.token, address(usd));
        assertEq(p.amount, 4 * PRICE);
        assertEq(p.deadline - p.createdAt, WINDOW);
        assertEq(market.pendingPurchaseOf(STUDY), 0);
    }

    function test_confirm_nothingCreditedWhilePending() public {
        address[] memory h = _enrollMany(STUDY, 3);
        _buy(STUDY);
        assertEq(market.claimable(STUDY, h[0]), 0);
    }

    function test_confirm_allThreeSignaturesAlsoWork() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        market.confirm(id, RELEASE, _sigs(id, RELEASE, 3));
        assertEq(market.rewardPerTokenOf(STUDY), PRICE);
    }

    function test_confirm_revertsBelowThreshold() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes[] memory sigs = _sigs(id, RELEASE, 1);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NotEnoughSignatures.selector, 1, 2));
        market.confirm(id, RELEASE, sigs);
    }

    function test_confirm_revertsOnDuplicateSigner() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes[] memory one = _sigs(id, RELEASE, 1);
        bytes[] memory sigs = new bytes[](2);
        sigs[0] = one[0];
        sigs[1] = one[0];
        address signer = vm.addr(memberKeys[0]);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__SignersNotAscending.selector, signer, signer));
        market.confirm(id, RELEASE, sigs);
    }

    function test_confirm_revertsOnDescendingOrder() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes[] memory sigs = _sigs(id, RELEASE, 2);
        (sigs[0], sigs[1]) = (sigs[1], sigs[0]);
        vm.expectRevert();
        market.confirm(id, RELEASE, sigs);
    }

    function test_confirm_revertsOnOutsider() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes32 digest = market.confirmDigest(id, STUDY, buyer, RELEASE);
        uint256 outsiderPk = 0xBAD;
        bytes[] memory sigs = new bytes[](2);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(outsiderPk, digest);
        sigs[0] = abi.encodePacked(r, s, v);
        sigs[1] = sigs[0];
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NotCommitteeMember.selector, vm.addr(outsiderPk)));
        market.confirm(id, RELEASE, sigs);
    }

    function test_confirm_removedMemberNoLongerCounts() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes[] memory sigs = _sigs(id, RELEASE, 2);
        vm.prank(ADMIN);
        committee.removeMember(vm.addr(memberKeys[0]), 2);
        vm.expectRevert();
        market.confirm(id, RELEASE, sigs);
    }

    function test_confirm_signaturesBindTheReleaseHash() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes[] memory sigs = _sigs(id, RELEASE, 2);
        vm.expectRevert(); // recovers other addresses: not members (or not ascending)
        market.confirm(id, keccak256("another release"), sigs);
    }

    function test_confirm_revertsAfterDeadline() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes[] memory sigs = _sigs(id, RELEASE, 2);
        uint64 deadline = market.purchaseOf(id).deadline;
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__DeadlinePassed.selector, id, deadline));
        market.confirm(id, RELEASE, sigs);
    }

    function test_confirm_atDeadlineStillWorks() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes[] memory sigs = _sigs(id, RELEASE, 2);
        vm.warp(market.purchaseOf(id).deadline);
        market.confirm(id, RELEASE, sigs);
    }

    function test_confirm_twiceReverts_zeroHashReverts() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes[] memory zeroSigs = _sigs(id, bytes32(0), 2);
        vm.expectRevert(IStudyMarket.StudyMarket__ZeroReleaseHash.selector);
        market.confirm(id, bytes32(0), zeroSigs);
        bytes[] memory sigs = _sigs(id, RELEASE, 2);
        market.confirm(id, RELEASE, sigs);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NotPending.selector, id));
        market.confirm(id, RELEASE, sigs);
    }

    // ---------------------------------------------------------------- refund

    function test_refund_afterDeadlineByAnyone() public {
        address[] memory h = _enrollMany(STUDY, 3);
        uint256 before = usd.balanceOf(buyer);
        uint256 id = _buy(STUDY);
        uint64 deadline = market.purchaseOf(id).deadline;
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__DeadlineNotPassed.selector, id, deadline));
        market.refund(id);
        vm.warp(deadline + 1);
        vm.expectEmit(address(market));
        emit IStudyMarket.PurchaseRefunded(id, STUDY, buyer, 3 * PRICE);
        vm.prank(makeAddr("anyone"));
        market.refund(id);
        assertEq(usd.balanceOf(buyer), before);
        assertEq(usd.balanceOf(address(market)), 0);
        assertEq(market.claimable(STUDY, h[0]), 0);
        assertEq(market.pendingPurchaseOf(STUDY), 0);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NotPending.selector, id));
        market.refund(id);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NotPending.selector, 99));
        market.refund(99);
    }

    function test_refund_thenANewPurchase() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        vm.warp(block.timestamp + WINDOW + 1);
        market.refund(id);
        _confirm(_buy(STUDY));
        assertEq(market.rewardPerTokenOf(STUDY), PRICE);
    }

    // ---------------------------------------------------------------- claim

    function test_claim_paysAnyAddressOnce() public {
        address[] memory h = _enrollMany(STUDY, 3);
        _confirm(_buy(STUDY));
        address payee = makeAddr("payee");
        vm.expectEmit(address(market));
        emit IStudyMarket.Claimed(STUDY, h[0], payee, PRICE);
        vm.prank(h[0]);
        assertEq(market.claim(STUDY, payee), PRICE);
        assertEq(usd.balanceOf(payee), PRICE);
        assertEq(market.claimable(STUDY, h[0]), 0);
        vm.prank(h[0]);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NothingToClaim.selector, STUDY, h[0]));
        market.claim(STUDY, payee);
    }

    function test_claim_toZeroReverts() public {
        vm.expectRevert(IStudyMarket.StudyMarket__ZeroAddress.selector);
        market.claim(STUDY, address(0));
    }

    function test_claim_accumulatesOverPurchases() public {
        address[] memory h = _enrollMany(STUDY, 3);
        for (uint256 i = 0; i < 5; ++i) _confirm(_buy(STUDY));
        assertEq(market.claimable(STUDY, h[2]), 5 * PRICE);
        vm.prank(h[2]);
        market.claim(STUDY, h[2]);
        _confirm(_buy(STUDY));
        assertEq(market.claimable(STUDY, h[2]), PRICE);
    }

    function test_claim_throughTheForwarder() public {
        uint256 pk = 0x5EED;
        address holder = vm.addr(pk);
        MarketCohort.grant(consent, holder, STUDY, DURATION);
        _enrollMany(STUDY, 2);
        _confirm(_buy(STUDY));
        address payee = makeAddr("payee");
        ERC2771Forwarder.ForwardRequestData memory req = ERC2771Forwarder.ForwardRequestData({
            from: holder,
            to: address(market),
            value: 0,
            gas: 200_000,
            deadline: uint48(block.timestamp + 1 hours),
            data: abi.encodeCall(market.claim, (STUDY, payee)),
            signature: ""
        });
        req.signature = _signForward(pk, req);
        vm.prank(makeAddr("relayer"));
        forwarder.execute(req);
        assertEq(usd.balanceOf(payee), PRICE);
        assertEq(market.claimable(STUDY, holder), 0);
    }

    /// @dev The ERC2771Forwarder's EIP-712 signature of `req` by `pk` (at the signer's current nonce).
    function _signForward(uint256 pk, ERC2771Forwarder.ForwardRequestData memory req) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "ForwardRequest(address from,address to,uint256 value,uint256 gas,uint256 nonce,uint48 deadline,bytes data)"
                ),
                req.from,
                req.to,
                req.value,
                req.gas,
                forwarder.nonces(req.from),
                req.deadline,
                keccak256(req.data)
            )
        );
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = forwarder.eip712Domain();
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifying
            )
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        return abi.encodePacked(r, s, v);
    }

    // ---------------------------------------------------------------- who earns what

    function test_revokedBeforePurchase_earnsNothingFromIt_keepsEarlier() public {
        address[] memory h = _enrollMany(STUDY, 4);
        _confirm(_buy(STUDY));
        vm.prank(h[0]);
        consent.revoke(STUDY);
        _confirm(_buy(STUDY));
        assertEq(market.claimable(STUDY, h[0]), PRICE);
        assertEq(market.claimable(STUDY, h[1]), 2 * PRICE);
        vm.prank(h[0]);
        market.claim(STUDY, h[0]);
        assertEq(usd.balanceOf(h[0]), PRICE);
    }

    function test_revokedWhilePending_earnsIfConfirmed() public {
        address[] memory h = _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        vm.prank(h[0]);
        consent.revoke(STUDY);
        assertEq(market.claimable(STUDY, h[0]), 0);
        _confirm(id);
        assertEq(market.claimable(STUDY, h[0]), PRICE);
        vm.prank(h[0]);
        market.claim(STUDY, h[0]);
        assertEq(usd.balanceOf(h[0]), PRICE);
        assertEq(market.claimable(STUDY, h[0]), 0);
    }

    function test_revokedWhilePending_nothingIfRefunded() public {
        address[] memory h = _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        vm.prank(h[0]);
        consent.revoke(STUDY);
        vm.warp(block.timestamp + WINDOW + 1);
        market.refund(id);
        assertEq(market.claimable(STUDY, h[0]), 0);
    }

    function test_joinedWhilePending_notInThatCohort() public {
        address[] memory h = _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        address late = _enroll(STUDY);
        _confirm(id);
        assertEq(market.claimable(STUDY, late), 0);
        assertEq(market.claimable(STUDY, h[0]), PRICE);
        _confirm(_buy(STUDY));
        assertEq(market.claimable(STUDY, late), PRICE);
        assertEq(market.claimable(STUDY, h[0]), 2 * PRICE);
        assertEq(usd.balanceOf(address(market)), 3 * PRICE + 4 * PRICE);
    }

    function test_joinedWhilePending_claimBeforeConfirm_thenExact() public {
        _enrollMany(STUDY, 3);
        _confirm(_buy(STUDY));
        uint256 id = _buy(STUDY);
        address late = _enroll(STUDY);
        vm.prank(late);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NothingToClaim.selector, STUDY, late));
        market.claim(STUDY, late);
        _confirm(id);
        assertEq(market.claimable(STUDY, late), 0);
        _confirm(_buy(STUDY));
        assertEq(market.claimable(STUDY, late), PRICE);
    }

    function test_joinedAndRevokedWhilePending_earnsNothing() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        address late = _enroll(STUDY);
        vm.prank(late);
        consent.revoke(STUDY);
        _confirm(id);
        assertEq(market.claimable(STUDY, late), 0);
    }

    function test_expiredWhilePending_earnsIfConfirmed() public {
        address[] memory early = _enrollMany(STUDY, 1);
        vm.warp(block.timestamp + 1 days);
        _enrollMany(STUDY, 3);
        vm.warp(block.timestamp + DURATION - 1 days - 1); // early expires in 1 s
        uint256 id = _buy(STUDY);
        assertEq(market.purchaseOf(id).cohort, 4);
        vm.warp(block.timestamp + 2);
        _confirm(id);
        assertEq(market.claimable(STUDY, early[0]), PRICE);
        // The next purchase checkpoints it: still PRICE, nothing from the new one.
        _confirm(_buy(STUDY));
        assertEq(market.claimable(STUDY, early[0]), PRICE);
        assertEq(market.activeCountOf(STUDY), 3);
        vm.prank(early[0]);
        market.claim(STUDY, early[0]);
        assertEq(usd.balanceOf(early[0]), PRICE);
    }

    function test_expired_claimCheckpointsIt() public {
        address[] memory h = _enrollMany(STUDY, 3);
        _confirm(_buy(STUDY));
        vm.warp(block.timestamp + DURATION);
        vm.expectEmit(address(market));
        emit IStudyMarket.HolderLeft(STUDY, h[0], true);
        vm.prank(h[0]);
        market.claim(STUDY, h[0]);
        assertEq(market.activeCountOf(STUDY), 2);
        // Revoking after expiry changes nothing.
        vm.prank(h[0]);
        consent.revoke(STUDY);
        assertEq(market.activeCountOf(STUDY), 2);
    }

    function test_revokeAfterExpiry_reportedAsExpired_keepsEarnings() public {
        address[] memory h = _enrollMany(STUDY, 3);
        _confirm(_buy(STUDY));
        vm.warp(block.timestamp + DURATION + 1);
        vm.expectEmit(address(market));
        emit IStudyMarket.HolderLeft(STUDY, h[0], true);
        vm.prank(h[0]);
        consent.revoke(STUDY);
        assertEq(market.activeCountOf(STUDY), 2);
        assertEq(market.claimable(STUDY, h[0]), PRICE);
    }

    function test_advanceExpiries_bounded() public {
        _enrollMany(STUDY, 5);
        vm.warp(block.timestamp + DURATION);
        assertEq(market.advanceExpiries(STUDY, 2), 2);
        assertEq(market.activeCountOf(STUDY), 3);
        assertEq(market.advanceExpiries(STUDY, 10), 3);
        assertEq(market.activeCountOf(STUDY), 0);
        assertEq(market.advanceExpiries(STUDY, 10), 0);
    }

    function test_advanceExpiries_skipsRevokedHolders() public {
        address[] memory h = _enrollMany(STUDY, 4);
        vm.prank(h[1]);
        consent.revoke(STUDY);
        vm.warp(block.timestamp + DURATION);
        assertEq(market.advanceExpiries(STUDY, 10), 4);
        assertEq(market.activeCountOf(STUDY), 0);
    }

    function test_purchase_reportsExpiredHoldersLeaving() public {
        address[] memory early = _enrollMany(STUDY, 1);
        vm.warp(block.timestamp + 1 days);
        _enrollMany(STUDY, 3);
        vm.warp(block.timestamp + DURATION - 1 days);
        vm.expectEmit(address(market));
        emit IStudyMarket.HolderLeft(STUDY, early[0], true);
        _buy(STUDY);
    }

    function test_confirm_readsTheThresholdAtConfirmation() public {
        _enrollMany(STUDY, 3);
        uint256 id = _buy(STUDY);
        bytes[] memory sigs = _sigs(id, RELEASE, 2);
        vm.prank(ADMIN);
        committee.setThreshold(3);
        vm.expectRevert(abi.encodeWithSelector(IStudyMarket.StudyMarket__NotEnoughSignatures.selector, 2, 3));
        market.confirm(id, RELEASE, sigs);
        market.confirm(id, RELEASE, _sigs(id, RELEASE, 3));
    }

    function test_studiesAreSeparate() public {
        assertEq(_newStudy(7e6, K, true), 2);
        address[] memory a = _enrollMany(STUDY, 3);
        address[] memory b = _enrollMany(2, 3);
        _confirm(_buy(STUDY));
        _confirm(_buy(2));
        assertEq(market.claimable(STUDY, a[0]), PRICE);
        assertEq(market.claimable(2, b[0]), 7e6);
        assertEq(market.claimable(2, a[0]), 0);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_payoutsAddUp(uint256 price, uint8 cohort, uint8 revokers) public {
        price = bound(price, 1, 1_000e6);
        cohort = uint8(bound(cohort, K, 40));
        revokers = uint8(bound(revokers, 0, cohort - K));
        uint256 id = _newStudy(price, K, true);
        address[] memory h = _enrollMany(id, cohort);
        _confirm(_buy(id));
        for (uint256 i = 0; i < revokers; ++i) {
            vm.prank(h[i]);
            consent.revoke(id);
        }
        _confirm(_buy(id));
        uint256 total;
        for (uint256 i = 0; i < cohort; ++i) {
            uint256 c = market.claimable(id, h[i]);
            assertEq(c, i < revokers ? price : 2 * price);
            if (c > 0) {
                vm.prank(h[i]);
                market.claim(id, h[i]);
                total += c;
            }
        }
        assertEq(total, uint256(cohort) * price * 2 - uint256(revokers) * price);
        assertEq(usd.balanceOf(address(market)), 0);
    }

    function testFuzz_refundReturnsExactlyTheEscrow(uint256 price, uint8 cohort, uint256 late) public {
        price = bound(price, 1, 1_000e6);
        cohort = uint8(bound(cohort, K, 30));
        uint256 id0 = _newStudy(price, K, true);
        _enrollMany(id0, cohort);
        uint256 before = usd.balanceOf(buyer);
        uint256 id = _buy(id0);
        assertEq(usd.balanceOf(buyer), before - price * cohort);
        vm.warp(uint256(market.purchaseOf(id).deadline) + bound(late, 1, 365 days));
        market.refund(id);
        assertEq(usd.balanceOf(buyer), before);
        assertEq(usd.balanceOf(address(market)), 0);
    }

    function testFuzz_purchaseOverflowingPriceReverts(uint256 price) public {
        price = bound(price, type(uint256).max / 3 + 1, type(uint256).max);
        uint256 id = _newStudy(price, K, true);
        _enrollMany(id, 3);
        vm.prank(buyer);
        vm.expectRevert(); // checked multiplication: panic 0x11
        market.purchase(id);
    }
}
