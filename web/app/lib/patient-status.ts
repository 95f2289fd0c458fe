import { z } from 'zod';
import type { Address } from 'viem';
import { graphqlRequest } from '@consentry/sdk/graphql';

/** The browser asks the web server, which forwards to the configured index (routes/graphql.ts). */
export const GRAPHQL_PATH = '/graphql';

export const PATIENT_QUERY = /* GraphQL */ `
  query Patient($id: ID!) {
    patient(id: $id) {
      id
      encryptionKey
      keyRotations
      registeredAtBlock
      registeredAtTimestamp
    }
  }
`;

const bigintString = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform((v) => BigInt(v));

const patientSchema = z.object({
  id: z.string(),
  encryptionKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  keyRotations: z.coerce.number().int().nonnegative(),
  registeredAtBlock: bigintString,
  registeredAtTimestamp: bigintString,
});

const responseSchema = z.object({ patient: patientSchema.nullable() });

export type IndexedPatient = z.infer<typeof patientSchema>;

/** The patient as the index knows it, or null when the index has not seen them (yet). */
export async function fetchPatient(address: Address, url: string = GRAPHQL_PATH, fetchImpl?: typeof fetch): Promise<IndexedPatient | null> {
  const data = await graphqlRequest<unknown>(url, PATIENT_QUERY, { id: address.toLowerCase() }, fetchImpl ? { fetchImpl } : {});
  return responseSchema.parse(data).patient;
}
