-- The FHSU's determination: its outcome is now one of appellant, respondent, partly, with a
-- summary. A determination recorded before, whose outcome was free text, keeps that text as
-- its summary and has no outcome (null).
UPDATE disputes
SET detail = json_set(
        detail,
        '$.fhsu_determination',
        json_object(
            'determined_on', json_extract(detail, '$.fhsu_determination.determined_on'),
            'outcome', NULL,
            'summary', coalesce(json_extract(detail, '$.fhsu_determination.outcome'), '')
        )
    )
WHERE json_type(detail, '$.fhsu_determination') = 'object'
  AND json_type(detail, '$.fhsu_determination.summary') IS NULL;
