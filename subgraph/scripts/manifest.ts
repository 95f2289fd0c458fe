/**
 * Generates `subgraph/subgraph.yaml` from `deployments/<chainId>.json` and copies the ABIs it
 * references from the forge build (`contracts/out/<Name>.sol/<Name>.json` → `subgraph/abis/<Name>.json`).
 * Both outputs are generated and gitignored.
 *
 * CLI: `npm run manifest -w @consentry/subgraph` (CHAIN_ID and DEPLOYMENTS_DIR from the env).
 *   --require-deployment   fail when there is no deployment instead of writing the placeholder.
 *
 * Without a deployment the manifest gets a placeholder source (the zero address, start block 0)
 * and says so in its header: `graph codegen` / `graph build` and the mapping tests only need the
 * ABI and the handlers, not a live contract. Deploy (`npm start`) and rerun to get the real one.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Abi, AbiEvent, AbiParameter } from 'viem';
import { z } from 'zod';
import { loadConfig, REPO_ROOT } from '@consentry/sdk/config';
import { ConsentryError } from '@consentry/sdk/errors';
import { deploymentFile, readDeployment, type ContractName } from '@consentry/sdk/deployment';

export const SUBGRAPH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PLACEHOLDER_ADDRESS = '0x0000000000000000000000000000000000000000';

/** One data source per contract: the events it handles and the mapping file that handles them. */
export interface DataSourceSpec {
  contract: ContractName;
  /** Mapping file, relative to subgraph/. */
  file: string;
  /** Entities the mapping writes (the manifest lists them). */
  entities: readonly string[];
  /** Event name (as in the ABI) → exported handler function. */
  handlers: Readonly<Record<string, string>>;
}

/** The data sources of this subgraph. The WASM test host (test/host) dispatches from this table too. */
export const DATA_SOURCES: readonly DataSourceSpec[] = [
  {
    contract: 'PatientRegistry',
    file: './src/patient-registry.ts',
    entities: ['Patient', 'PatientRegistered', 'EncryptionKeyRotated', 'AccessEvent'],
    handlers: {
      PatientRegistered: 'handlePatientRegistered',
      EncryptionKeyRotated: 'handleEncryptionKeyRotated',
      GuardiansChanged: 'handleGuardiansChanged',
      GuardianChangeProposed: 'handleGuardianChangeProposed',
      GuardianChangeCancelled: 'handleGuardianChangeCancelled',
      RecoveryStarted: 'handleRecoveryStarted',
      RecoveryApproved: 'handleRecoveryApproved',
      RecoveryReady: 'handleRecoveryReady',
      RecoveryCancelled: 'handleRecoveryCancelled',
      AccountRecovered: 'handleAccountRecovered',
    },
  },
  {
    contract: 'RecordAnchor',
    file: './src/record-anchor.ts',
    entities: ['AnchorBatch'],
    handlers: {
      BatchAnchored: 'handleBatchAnchored',
    },
  },
  {
    contract: 'OrganizationRegistry',
    file: './src/organization-registry.ts',
    entities: ['Organization'],
    handlers: {
      OrganizationRegistered: 'handleOrganizationRegistered',
      OrganizationUpdated: 'handleOrganizationUpdated',
      OrganizationAccredited: 'handleOrganizationAccredited',
      OrganizationSuspended: 'handleOrganizationSuspended',
    },
  },
  {
    contract: 'AccessGrants',
    file: './src/access-grants.ts',
    entities: ['AccessRequest', 'Grant', 'AccessEvent', 'BreakGlass', 'PatientPolicy'],
    handlers: {
      RequestCreated: 'handleRequestCreated',
      RequestApproved: 'handleRequestApproved',
      RequestDenied: 'handleRequestDenied',
      RequestCancelled: 'handleRequestCancelled',
      GrantRevoked: 'handleGrantRevoked',
      PolicyUpdated: 'handlePolicyUpdated',
      BreakGlassOpened: 'handleBreakGlassOpened',
      BreakGlassClosed: 'handleBreakGlassClosed',
    },
  },
  {
    contract: 'ReleaseCommittee',
    file: './src/release-committee.ts',
    entities: ['CommitteeMember', 'CommitteeEpoch', 'LogRoot'],
    handlers: {
      MemberAdded: 'handleMemberAdded',
      MemberRemoved: 'handleMemberRemoved',
      MemberKeyRotated: 'handleMemberKeyRotated',
      EpochStarted: 'handleEpochStarted',
      LogRootPosted: 'handleLogRootPosted',
    },
  },
  {
    contract: 'StudyRegistry',
    file: './src/study-registry.ts',
    entities: ['Study', 'IrbDecision', 'Enrollment'],
    handlers: {
      StudyCreated: 'handleStudyCreated',
      StudyDecided: 'handleStudyDecided',
      StudySuspended: 'handleStudySuspended',
      StudyStatusChanged: 'handleStudyStatusChanged',
      Enrolled: 'handleEnrolled',
    },
  },
  {
    contract: 'ConsentToken',
    file: './src/consent-token.ts',
    entities: ['ConsentRevocation'],
    handlers: {
      ConsentRevoked: 'handleConsentRevoked',
    },
  },
  {
    contract: 'StudyMarket',
    file: './src/study-market.ts',
    entities: ['Study', 'Purchase', 'PurchaseConfirmation', 'Refund', 'Claim'],
    handlers: {
      Purchased: 'handlePurchased',
      PurchaseConfirmed: 'handlePurchaseConfirmed',
      PurchaseRefunded: 'handlePurchaseRefunded',
      HolderJoined: 'handleHolderJoined',
      HolderLeft: 'handleHolderLeft',
      Claimed: 'handleClaimed',
    },
  },
  {
    contract: 'IssuerRegistry',
    file: './src/issuer-registry.ts',
    entities: ['Issuer'],
    handlers: {
      IssuerAdded: 'handleIssuerAdded',
      IssuerRemoved: 'handleIssuerRemoved',
    },
  },
];

/** A file data source template: created by a mapping with a CID, handled once the file is fetched. */
export interface FileTemplateSpec {
  name: string;
  kind: 'file/ipfs';
  /** Mapping file, relative to subgraph/. */
  file: string;
  entities: readonly string[];
  /** Exported handler, called with the file's bytes. */
  handler: string;
  /** An ABI graph-cli wants listed (file mappings use none). */
  abi: ContractName;
}

/** The templates of this subgraph. The WASM test host runs these too. */
export const TEMPLATES: readonly FileTemplateSpec[] = [
  {
    name: 'AnchorBatchManifest',
    kind: 'file/ipfs',
    file: './src/record-anchor.ts',
    entities: ['RecordVersion'],
    handler: 'handleAnchorBatchManifest',
    abi: 'RecordAnchor',
  },
];

/** Mapping API and manifest spec versions that graph-cli 0.98 / graph-ts 0.38 generate and accept. */
export const API_VERSION = '0.0.9';
export const SPEC_VERSION = '1.3.0';

/** Network names as graph-node and The Graph's network registry spell them. */
const NETWORKS: Readonly<Record<number, string>> = {
  1: 'mainnet',
  10: 'optimism',
  100: 'gnosis',
  137: 'matic',
  8453: 'base',
  17000: 'holesky',
  42161: 'arbitrum-one',
  84532: 'base-sepolia',
  421614: 'arbitrum-sepolia',
  11155111: 'sepolia',
  11155420: 'optimism-sepolia',
  // Local development chains (anvil, hardhat): a local graph-node names its chain like this.
  31337: 'localhost',
  1337: 'localhost',
};

export class UnknownNetworkError extends ConsentryError {
  constructor(chainId: number) {
    super(
      'SUBGRAPH_UNKNOWN_NETWORK',
      `No Graph network name is known for chain ${chainId}; set SUBGRAPH_NETWORK to the name your graph-node uses.`,
    );
    this.name = 'UnknownNetworkError';
  }
}

/** The Graph's name for `chainId`; `override` (SUBGRAPH_NETWORK) wins. */
export function networkName(chainId: number, override?: string): string {
  if (override) return override;
  const name = NETWORKS[chainId];
  if (!name) throw new UnknownNetworkError(chainId);
  return name;
}

const artifactSchema = z.object({ abi: z.array(z.looseObject({ type: z.string() })) });

/** The ABI of `contract` from the forge build output. */
export function readForgeAbi(contract: ContractName, root: string = REPO_ROOT): Abi {
  const file = join(root, 'contracts', 'out', `${contract}.sol`, `${contract}.json`);
  if (!existsSync(file)) {
    throw new ConsentryError('ARTIFACT_MISSING', `No build of ${contract} at ${file}: run \`npm run build:contracts\``);
  }
  const parsed = artifactSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new ConsentryError('ARTIFACT_INVALID', `${file} has no ABI: ${parsed.error.message}`);
  return parsed.data.abi as unknown as Abi;
}

/** The ABI event `name`, or an error saying the mapping table and the contract disagree. */
export function abiEvent(abi: Abi, contract: string, name: string): AbiEvent {
  const event = abi.find((item): item is AbiEvent => item.type === 'event' && item.name === name);
  if (!event) {
    throw new ConsentryError('SUBGRAPH_EVENT_MISSING', `${contract} has no event ${name} in its ABI, but DATA_SOURCES handles it`);
  }
  return event;
}

/** A parameter's canonical type: `uint256`, `bytes32[]`, `(address,uint256)[]`. */
function parameterType(param: AbiParameter): string {
  if (param.type.startsWith('tuple') && 'components' in param) {
    return `(${param.components.map(parameterType).join(',')})${param.type.slice('tuple'.length)}`;
  }
  return param.type;
}

/** `Name(indexed address,bytes32)`: the event signature form the manifest uses. */
export function manifestEventSignature(event: AbiEvent): string {
  const types = event.inputs.map((input) => `${input.indexed ? 'indexed ' : ''}${parameterType(input)}`);
  return `${event.name}(${types.join(',')})`;
}

export interface ManifestSource {
  contract: ContractName;
  address: string;
  startBlock: number;
}

export interface ManifestInput {
  network: string;
  sources: readonly ManifestSource[];
  abis: ReadonlyMap<ContractName, Abi>;
  /** Why the sources are placeholders, if they are. */
  placeholder?: string;
}

/** The manifest text (YAML). Pure: no file access. */
export function renderManifest(input: ManifestInput): string {
  const lines: string[] = [
    '# GENERATED by subgraph/scripts/manifest.ts from deployments/<chainId>.json. Do not edit.',
    '# Regenerate with `npm run manifest -w @consentry/subgraph`.',
  ];
  if (input.placeholder) lines.push(`# PLACEHOLDER SOURCE: ${input.placeholder}`);
  lines.push(`specVersion: ${SPEC_VERSION}`, 'indexerHints:', '  prune: auto', 'schema:', '  file: ./schema.graphql', 'dataSources:');
  for (const spec of DATA_SOURCES) {
    const source = input.sources.find((s) => s.contract === spec.contract);
    const abi = input.abis.get(spec.contract);
    if (!source || !abi) throw new ConsentryError('SUBGRAPH_SOURCE_MISSING', `No address or ABI for ${spec.contract}`);
    lines.push(
      '  - kind: ethereum',
      `    name: ${spec.contract}`,
      `    network: ${input.network}`,
      '    source:',
      `      address: "${source.address}"`,
      `      abi: ${spec.contract}`,
      `      startBlock: ${source.startBlock}`,
      '    mapping:',
      '      kind: ethereum/events',
      `      apiVersion: ${API_VERSION}`,
      '      language: wasm/assemblyscript',
      '      entities:',
      ...spec.entities.map((e) => `        - ${e}`),
      '      abis:',
      `        - name: ${spec.contract}`,
      `          file: ./abis/${spec.contract}.json`,
      '      eventHandlers:',
    );
    for (const [eventName, handler] of Object.entries(spec.handlers)) {
      const signature = manifestEventSignature(abiEvent(abi, spec.contract, eventName));
      lines.push(`        - event: ${signature}`, `          handler: ${handler}`);
    }
    lines.push(`      file: ${spec.file}`);
  }
  if (TEMPLATES.length > 0) lines.push('templates:');
  for (const t of TEMPLATES) {
    lines.push(
      `  - name: ${t.name}`,
      `    kind: ${t.kind}`,
      '    mapping:',
      `      apiVersion: ${API_VERSION}`,
      '      language: wasm/assemblyscript',
      '      entities:',
      ...t.entities.map((e) => `        - ${e}`),
      '      abis:',
      `        - name: ${t.abi}`,
      `          file: ./abis/${t.abi}.json`,
      `      handler: ${t.handler}`,
      `      file: ${t.file}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export interface GenerateOptions {
  chainId: number;
  deploymentsDir?: string;
  /** Defaults to SUBGRAPH_DIR. */
  outDir?: string;
  network?: string;
  requireDeployment?: boolean;
  log?: (line: string) => void;
}

export interface GenerateResult {
  manifestFile: string;
  abiFiles: string[];
  placeholder: boolean;
  sources: ManifestSource[];
}

/** Writes `subgraph.yaml` and `abis/*.json` (see the file header). */
export function generateManifest(opts: GenerateOptions): GenerateResult {
  const log = opts.log ?? (() => {});
  const outDir = opts.outDir ?? SUBGRAPH_DIR;
  const network = networkName(opts.chainId, opts.network);

  const abis = new Map<ContractName, Abi>();
  const abiFiles: string[] = [];
  mkdirSync(join(outDir, 'abis'), { recursive: true });
  for (const spec of DATA_SOURCES) {
    const abi = readForgeAbi(spec.contract);
    abis.set(spec.contract, abi);
    const file = join(outDir, 'abis', `${spec.contract}.json`);
    writeFileSync(file, `${JSON.stringify(abi, null, 2)}\n`);
    abiFiles.push(file);
  }

  const file = deploymentFile(opts.chainId, opts.deploymentsDir);
  let sources: ManifestSource[];
  let placeholder: string | undefined;
  if (existsSync(file)) {
    const deployment = readDeployment(opts.chainId, opts.deploymentsDir);
    const missing: string[] = [];
    sources = DATA_SOURCES.map((spec) => {
      const entry = deployment.contracts[spec.contract];
      if (entry) return { contract: spec.contract, ...entry };
      if (opts.requireDeployment) {
        throw new ConsentryError('DEPLOYMENT_INVALID', `${file} has no ${spec.contract}: deploy again (\`npm start\`), then rerun.`);
      }
      missing.push(spec.contract);
      return { contract: spec.contract, address: PLACEHOLDER_ADDRESS, startBlock: 0 };
    });
    if (missing.length > 0) {
      // An older deployment (before a contract was added): still buildable, but not deployable as is.
      placeholder = `${file} has no ${missing.join(', ')}; the zero address stands in. Deploy again, then rerun.`;
      log(`${file} has no ${missing.join(', ')}: writing a placeholder source for it`);
    }
  } else if (opts.requireDeployment) {
    throw new ConsentryError(
      'DEPLOYMENT_NOT_FOUND',
      `No deployment for chain ${opts.chainId} (${file}). Deploy first (\`npm start\`), then rerun.`,
    );
  } else {
    placeholder = `no deployment for chain ${opts.chainId} at ${file}; the zero address stands in. Deploy, then rerun.`;
    log(`no deployment at ${file}: writing a placeholder source (zero address, start block 0)`);
    sources = DATA_SOURCES.map((spec) => ({ contract: spec.contract, address: PLACEHOLDER_ADDRESS, startBlock: 0 }));
  }

  const manifestFile = join(outDir, 'subgraph.yaml');
  writeFileSync(manifestFile, renderManifest({ network, sources, abis, ...(placeholder ? { placeholder } : {}) }));
  log(`wrote ${manifestFile} (network ${network}${placeholder ? ', placeholder source' : ''})`);
  return { manifestFile, abiFiles, placeholder: placeholder !== undefined, sources };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const config = loadConfig();
    generateManifest({
      chainId: config.CHAIN_ID,
      deploymentsDir: config.DEPLOYMENTS_DIR,
      requireDeployment: process.argv.includes('--require-deployment'),
      ...(process.env.SUBGRAPH_NETWORK ? { network: process.env.SUBGRAPH_NETWORK } : {}),
      log: (line) => console.log(`manifest: ${line}`),
    });
  } catch (err) {
    console.error(`manifest: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
