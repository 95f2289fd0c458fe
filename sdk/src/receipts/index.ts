// FHIR R4 receipts (browser-safe): enrollments and clinical grants as Consent, releases as AuditEvent.
export { enrollmentConsent, grantConsent, type ConsentResource, type ConsentStatus, type EnrollmentFacts, type GrantFacts, type ReceiptOptions } from './consent.ts';
export {
  releaseAuditEvent,
  releaseFromAuditEvent,
  verifyReleaseAuditEvent,
  type AuditEventResource,
  type ReleaseAuditOptions,
  type ReleaseFromAuditEvent,
  type ReleaseLogEntry,
} from './audit-event.ts';
export { EXTENSIONS, ReceiptInputError, SYSTEMS } from './common.ts';
