import type { Address } from 'viem';

/** A development account offered on the local chain: anvil's default account at `index`. */
export interface DevAccountRef {
  index: number;
  address: Address;
}

/**
 * What the browser needs to know to talk to the chain, from the root loader.
 * Public by construction: nothing here is secret (no keys, no server-side URLs).
 */
export interface PublicConfig {
  chainId: number;
  /** The JSON-RPC endpoint the browser uses (PUBLIC_RPC_URL, else RPC_URL). */
  rpcUrl: string;
  /** The deployed contracts, or null when there is no usable deployment (see `problem`). */
  contracts: {
    PatientRegistry: Address;
    RecordAnchor: Address | null;
    OrganizationRegistry: Address | null;
    AccessGrants: Address | null;
    ReleaseCommittee: Address | null;
    IssuerRegistry: Address | null;
    EligibilityVerifier: Address | null;
    StudyRegistry: Address | null;
    /** The study registry's ConsentToken (a participant's consent, its expiry, its revocation). */
    ConsentToken: Address | null;
    /** The ERC-2771 forwarder the relayer submits participants' signed requests through. */
    Forwarder: Address | null;
    /** Escrow and payouts of study purchases (a participant's earnings and claims). */
    StudyMarket: Address | null;
    /** The local chain's test stablecoin (tUSD): studies are priced in it, and anyone may mint some (faucet). */
    TestToken: Address | null;
  } | null;
  /** The block the deployment started at: event reads (the issuers tree) begin there. */
  startBlock: number;
  /** The release committee's gateways (GATEWAY_URLS); the browser asks each for its share. */
  gateways: string[];
  /** The credential issuer (ISSUER_URL, no trailing slash): the browser sends it the patient's records directly. */
  issuerUrl: string | null;
  /**
   * The gasless relayer (RELAYER_URL, no trailing slash): the browser posts it the forward requests
   * a per-study address signs (enrolment, revocation), so that address never needs ether.
   * Optional only so the root loader's fallback may leave it out.
   */
  relayerUrl?: string | null;
  /** Why the app cannot work right now, in words; null when all is well. */
  problem: string | null;
  /** Development accounts (local chain 31337 only; empty elsewhere). */
  devAccounts: DevAccountRef[];
}

export const LOCAL_CHAIN_ID = 31337;
