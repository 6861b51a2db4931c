-- Back to the free-text outcome: the summary becomes the outcome.
UPDATE disputes
SET detail = jsonb_set(
        detail::jsonb,
        '{fhsu_determination}',
        jsonb_build_object(
            'determined_on', detail::jsonb #> '{fhsu_determination,determined_on}',
            'outcome', coalesce(detail::jsonb #> '{fhsu_determination,summary}', '""'::jsonb)
        )
    )::text
WHERE detail::jsonb ? 'fhsu_determination';
