DROP INDEX notices_due;
CREATE INDEX notices_due ON notices(status, next_attempt_at);
ALTER TABLE notices RESET (fillfactor);
