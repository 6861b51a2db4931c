-- The next deadlines are worked out again by the rule of the build that runs next.
INSERT INTO backfills (name) VALUES ('next_deadline_on') ON CONFLICT DO NOTHING;
