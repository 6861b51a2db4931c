-- The FHSU's determination: its outcome is now one of appellant, respondent, partly, with a
-- summary. A determination recorded before, whose outcome was free text, keeps that text as
-- its summary and has no outcome (null).
UPDATE disputes
SET detail = jsonb_set(
        detail::jsonb,
        '{fhsu_determination}',
        jsonb_build_object(
            'determined_on', detail::jsonb #> '{fhsu_determination,determined_on}',
            'outcome', NULL,
            'summary', coalesce(detail::jsonb #> '{fhsu_determination,outcome}', '""'::jsonb)
        )
    )::text
WHERE detail::jsonb ? 'fhsu_determination'
  AND NOT (detail::jsonb -> 'fhsu_determination' ? 'summary');
