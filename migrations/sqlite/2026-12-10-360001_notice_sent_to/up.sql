-- The recipients GOV.UK Notify has already accepted a notice for (a JSON array of addresses),
-- kept when an attempt stops part-way (a temporary refusal, or the lease running out between two
-- recipients), so that the retry sends only to the others. NULL: none recorded. Notify takes one
-- request per recipient; SMTP and .eml files deliver a notice whole and leave it NULL.
ALTER TABLE notices ADD COLUMN sent_to TEXT;
