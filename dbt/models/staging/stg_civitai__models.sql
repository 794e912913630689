-- Civitai models, one row per model per snapshot, in the API's own terms (renamed, typed).
with source as (  -- one row per model and snapshot: its latest version's listing
    select *, row_number() over (partition by snapshot_date, model_id order by last_version_at desc nulls last) as nth_listing
    from ({{ stored_rows('civitai_models', ['model_id', 'name', 'type', 'nsfw', 'nsfw_level', 'poi', 'minor', 'mode', 'availability', 'creator_username', 'tags', 'base_models', 'download_count', 'thumbs_up_count', 'created_at', 'last_version_at']) }}) as raw_models
)

select
    snapshot_date,
    model_id,
    name,
    type as model_type,
    nsfw as nsfw_declared,
    nsfw_level,
    poi,
    minor,
    mode,
    availability,
    creator_username,
    {{ list_transform('coalesce(tags, ' ~ empty_list() ~ ')', 't', 'lower(t)') }} as tags,
    coalesce(base_models, {{ empty_list() }}) as base_models,
    download_count,
    thumbs_up_count,
    created_at,
    last_version_at
from source
where nth_listing = 1
