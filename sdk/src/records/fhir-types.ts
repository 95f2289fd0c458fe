/** A FHIR resource as Consentry handles it: any resource with a type (browser-safe). */
export type FhirResource = { resourceType: string; id?: string; [k: string]: unknown };
