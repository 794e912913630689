{{ config(
    on_schema_change='fail',
    pre_hook="{{ delete_rows_of_images_sighted_since(prompt_families_written_at()) }}",
    post_hook="{{ delete_images_of_replaced_snapshots() }}",
    **incremental_by_item('image_id'),
) }}
-- The term families each Civitai image's prompt holds (its latest sighting's prompt; the negative
-- prompt never counts): one row per image and family. No prompt text leaves this model. The
-- patterns are constants from the macro prompt_family_patterns (generated from the seed
-- rules_prompt_terms): a pattern read from a table would be compiled again for every row.
-- A daily build rewrites the images whose latest sighting changed since this table last wrote
-- (their prompts read from raw/ from the earliest of those sightings on: normally the new snapshot
-- alone), every image when the prompt term rules changed (rules_hash); see images_sighted_since.
-- loaded_at is when the build that last wrote the image's rows started (UTC).
{% set families = prompt_family_patterns() %}
{% set written_at = prompt_families_written_at() %}

with sighted as (  -- the images to read anew (all of them on a full build)
    {{ images_sighted_since(written_at) }}
),

prompts as (
    select prompts.image_id, prompts.prompt, sighted.last_seen, sighted.last_seen_version
    from {{ ref('stg_civitai__image_prompts') }} as prompts
    inner join sighted
        on sighted.image_id = cast(prompts.image_id as {{ type_text() }})
        and sighted.last_seen = prompts.snapshot_date
    where prompts.prompt is not null and prompts.snapshot_date >= {{ first_sighting_since(written_at) }}
)

{% for family, pattern in families %}
select
    cast(prompts.image_id as {{ type_text() }}) as image_id,
    {{ sql_string(family) }} as family,
    prompts.last_seen,
    prompts.last_seen_version,
    '{{ prompt_rules_hash() }}' as rules_hash,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from prompts
where {{ prompt_matches('prompts.prompt', sql_string(pattern)) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
