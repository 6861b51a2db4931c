-- PostgreSQL's notices compress their bodies with lz4 from this version on (see
-- migrations/postgres). SQLite stores text as it is: nothing to change. The version exists in
-- both folders so that both databases are always at the same one.
SELECT 1;
