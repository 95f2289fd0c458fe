/**
 * A one-line description of a FHIR resource for people (browser-safe): what it is, its value and
 * its date, taken from the usual R4 fields. Used by the CLI listing, the export's HTML summary and
 * the web app. Runs only where the plaintext already is (the patient's own client).
 */
import type { FhirResource } from './fhir-types.ts';

type Coding = { display?: string; code?: string };
type Concept = { text?: string; coding?: Coding[] };
type Quantity = { value?: number; unit?: string; code?: string };

function conceptText(c: unknown): string | undefined {
  const concept = c as Concept | undefined;
  if (!concept) return undefined;
  return concept.text ?? concept.coding?.find((x) => x.display)?.display ?? concept.coding?.[0]?.code;
}

function quantityText(q: unknown): string | undefined {
  const quantity = q as Quantity | undefined;
  if (quantity?.value === undefined) return undefined;
  return `${quantity.value}${quantity.unit ? ` ${quantity.unit}` : quantity.code ? ` ${quantity.code}` : ''}`;
}

export interface ResourceDescription {
  title: string;
  detail: string;
  /** The clinically relevant date (YYYY-MM-DD…), if the resource has one. */
  date: string;
}

const DATE_FIELDS = [
  'effectiveDateTime',
  'issued',
  'onsetDateTime',
  'recordedDate',
  'authoredOn',
  'performedDateTime',
  'occurrenceDateTime',
  'date',
  'started',
  'birthDate',
] as const;

export function describeResource(resource: FhirResource): ResourceDescription {
  const r = resource as Record<string, unknown>;
  let title =
    conceptText(r.code) ??
    conceptText(r.medicationCodeableConcept) ??
    conceptText(r.vaccineCode) ??
    conceptText(r.type) ??
    (typeof r.description === 'string' ? r.description : undefined);
  let detail = '';
  switch (resource.resourceType) {
    case 'Observation':
      detail = quantityText(r.valueQuantity) ?? conceptText(r.valueCodeableConcept) ?? (typeof r.valueString === 'string' ? r.valueString : '');
      break;
    case 'Condition':
      detail = conceptText(r.clinicalStatus) ?? '';
      break;
    case 'AllergyIntolerance':
      detail = [r.criticality, conceptText((r.reaction as Array<{ manifestation?: unknown[] }> | undefined)?.[0]?.manifestation?.[0])]
        .filter(Boolean)
        .join(', ');
      break;
    case 'MedicationRequest':
    case 'MedicationStatement':
      detail = String((r.dosageInstruction as Array<{ text?: string }> | undefined)?.[0]?.text ?? r.status ?? '');
      break;
    case 'Patient': {
      const name = (r.name as Array<{ given?: string[]; family?: string }> | undefined)?.[0];
      title = name ? [...(name.given ?? []), name.family].filter(Boolean).join(' ') : 'Patient';
      detail = [r.gender, r.birthDate].filter(Boolean).join(', ');
      break;
    }
    default:
      detail = typeof r.status === 'string' ? r.status : '';
  }
  const date = DATE_FIELDS.map((f) => r[f]).find((v): v is string => typeof v === 'string') ?? '';
  return { title: title ?? resource.resourceType, detail, date };
}
