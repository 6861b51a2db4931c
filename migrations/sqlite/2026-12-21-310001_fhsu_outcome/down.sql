-- Back to the free-text outcome: the summary becomes the outcome.
UPDATE disputes
SET detail = json_set(
        detail,
        '$.fhsu_determination',
        json_object(
            'determined_on', json_extract(detail, '$.fhsu_determination.determined_on'),
            'outcome', coalesce(json_extract(detail, '$.fhsu_determination.summary'), '')
        )
    )
WHERE json_type(detail, '$.fhsu_determination') = 'object';
