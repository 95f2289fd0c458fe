-- Custom SQL migration file, put your code below! --
-- Entries logged before the seq column existed are numbered in the order they were written.
UPDATE `gateway_release` SET `seq` = `rowid` WHERE `seq` IS NULL;
