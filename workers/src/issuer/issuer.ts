/**
 * The credential issuer (a clinic's service, docs/decisions/019-issuers-and-attributes.md): it
 * derives a patient's attributes from FHIR records and signs them, with the patient's identity
 * commitment, an issue time and an expiry, under its Baby Jubjub EdDSA key. It signs only while its
 * leaf is in the on-chain issuers tree: a credential from an issuer no proof can name would be a
 * promise nobody can keep.
 *
 * Requests and answers are plain values here ({status, body}); server.ts puts them on HTTP. When
 * the chain cannot be read, `info` and `issue` throw IssuerChainError (503). Nothing
 * about a request's content (records, attributes, commitment) is logged or kept.
 */
import type { Address } from 'viem';
import { z } from 'zod';
import { issuerRegistryAbi } from '@consentry/sdk/abi/generated';
import { publicClientFor } from '@consentry/sdk/clients';
import { ConsentryError } from '@consentry/sdk/errors';
import type { FhirResource } from '@consentry/sdk/records/fhir-types';
import { parseFhirInput } from '@consentry/sdk/records/fhir';
import { AttributesError, deriveAttributes } from '@consentry/sdk/zk/attributes';
import { issuerLeaf, signCredential, type Credential, type IssuerKey } from '@consentry/sdk/zk/credential';
import { FIELD } from '@consentry/sdk/zk/layout';

const DAY = 86_400;
/** How many FHIR resources one request may carry (a patient's whole record, generously). */
export const MAX_RESOURCES = 5000;

export interface IssuerInfo {
  /** Baby Jubjub public key (Ax, Ay), decimal strings. */
  publicKey: [string, string];
  /** Poseidon(Ax, Ay), the issuer's leaf in the issuers tree, decimal. */
  leaf: string;
  name: string;
  /** Whether the leaf is in the on-chain issuers tree now. */
  accredited: boolean;
}

export interface IssuerReply {
  status: number;
  body: unknown;
}

export interface IssuerOptions {
  key: IssuerKey;
  name: string;
  /** How long a credential is valid (days, default 365). */
  validityDays?: number;
  /** Whether `leaf` is in the on-chain issuers tree now (see `chainAccreditation`). */
  isAccredited(leaf: bigint): Promise<boolean>;
  /** The clock (tests). */
  now?: () => Date;
}

/** Whether a leaf is an accredited issuer now: IssuerRegistry.isIssuer at the latest block. */
export function chainAccreditation(opts: { rpcUrl: string; chainId: number; registry: Address; retryCount?: number }): (leaf: bigint) => Promise<boolean> {
  const client = publicClientFor(opts.rpcUrl, opts.chainId, { retryCount: opts.retryCount ?? 1 });
  return (leaf) => client.readContract({ address: opts.registry, abi: issuerRegistryAbi, functionName: 'isIssuer', args: [leaf] });
}

export interface Issuer {
  readonly leaf: bigint;
  info(): Promise<IssuerInfo>;
  /** POST /credentials: `{resources, identityCommitment}` → `{credential}` or `{error: {code, message}}`. */
  issue(body: unknown): Promise<IssuerReply>;
}

export const credentialRequestSchema = z
  .object({
    resources: z
      .array(z.looseObject({ resourceType: z.string('needs a resourceType').min(1, 'needs a resourceType') }, 'must be a FHIR resource (a JSON object with a resourceType)'), 'must be an array of FHIR resources')
      .min(1, 'is empty: send the patient\'s FHIR resources (at least the Patient)')
      .max(MAX_RESOURCES, `at most ${MAX_RESOURCES} resources in one request`),
    identityCommitment: z
      .string('must be a decimal string')
      .regex(/^[1-9][0-9]{0,76}$/, 'must be a decimal number (no sign, leading zeros or 0x)')
      .transform((s) => BigInt(s))
      .refine((v) => v < FIELD, 'must be below the BN254 scalar field'),
  })
  .strict();

/** The issuers tree could not be read (the node is down or the registry is not deployed): answered 503. */
export class IssuerChainError extends ConsentryError {
  constructor(cause: unknown) {
    const line = cause instanceof Error ? ((cause as { shortMessage?: string }).shortMessage ?? cause.message.split('\n')[0]) : String(cause);
    super('CHAIN_UNAVAILABLE', `The issuer cannot read the issuers tree on chain: ${line}`, { cause });
    this.name = 'IssuerChainError';
  }
}

const refuse = (status: number, code: string, message: string): IssuerReply => ({ status, body: { error: { code, message } } });

/** The resources as FHIR: each validated as the records import does; Bundles are opened into their entries. */
function validated(resources: FhirResource[]): { resources: FhirResource[]; errors: string[] } {
  const out: FhirResource[] = [];
  const errors: string[] = [];
  resources.forEach((r, i) => {
    const parsed = parseFhirInput(JSON.stringify(r), `resources[${i}]`);
    out.push(...parsed.resources.map((p) => p.resource));
    errors.push(...parsed.errors.map((e) => `${e.location}${r.resourceType ? ` (${r.resourceType})` : ''}: ${e.reason}`));
  });
  return { resources: out, errors };
}

export function createIssuer(opts: IssuerOptions): Issuer {
  const leaf = issuerLeaf(opts.key.publicKey);
  const validity = (opts.validityDays ?? 365) * DAY;
  if (!Number.isInteger(validity) || validity <= 0) throw new RangeError('validityDays must be a positive whole number of days');
  const now = opts.now ?? (() => new Date());
  const publicKey: [string, string] = [opts.key.publicKey[0].toString(), opts.key.publicKey[1].toString()];
  const accredited = () =>
    opts.isAccredited(leaf).catch((err: unknown) => {
      throw new IssuerChainError(err);
    });

  return {
    leaf,
    async info() {
      return { publicKey, leaf: leaf.toString(), name: opts.name, accredited: await accredited() };
    },
    async issue(body) {
      const parsed = credentialRequestSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return refuse(400, 'BAD_REQUEST', `${issue.path.join('.') || 'request'}: ${issue.message}`);
      }
      if (!(await accredited())) {
        return refuse(403, 'NOT_ACCREDITED', `This issuer (leaf ${leaf}) is not in the on-chain issuers tree, so no proof could use its credential; ask an issuer accreditor to add it`);
      }
      const { resources, errors } = validated(parsed.data.resources as FhirResource[]);
      if (errors.length > 0) {
        const shown = errors.slice(0, 5).join('; ');
        return refuse(400, 'FHIR_INVALID', `${errors.length} resource${errors.length === 1 ? ' is' : 's are'} not valid FHIR R4: ${shown}${errors.length > 5 ? `; and ${errors.length - 5} more` : ''}`);
      }
      const at = now();
      let credential: Credential;
      try {
        const attributes = deriveAttributes(resources, { now: at });
        const issuedAt = Math.floor(at.getTime() / 1000);
        credential = signCredential(opts.key, { attributes, identityCommitment: parsed.data.identityCommitment, issuedAt, expiresAt: issuedAt + validity });
      } catch (err) {
        if (err instanceof AttributesError) return refuse(422, err.code, err.message);
        throw err;
      }
      return { status: 200, body: { credential } };
    },
  };
}
