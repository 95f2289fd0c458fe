-- Patient.controller and the recovery AccessEvents (issue 9) come from PatientRegistry events an
-- indexer built before them skipped: forget the checkpoint so the indexer re-indexes from its start
-- block (it empties the entity tables first, as for a new deployment). Webhook cursors are block
-- numbers, so the notifier sends nothing twice.
DELETE FROM "indexer_checkpoint";
