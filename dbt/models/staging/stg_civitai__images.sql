-- Civitai images per snapshot. browsing_level is the API's integer level; a crawl that only
-- has the lossy label (2023 tables) falls back to it, and level_source says which was used.
-- No de-duplication here: the normaliser and the importers already keep one row per image per
-- snapshot (a window over every image cost more than the rest of the model; the uniqueness
-- test on int_image_sightings guards it).
with source as (
    select * from {{ source('raw', 'civitai_images') }}
)

select
    snapshot_date,
    image_id,
    created_at,
    coalesce(
        browsing_level,
        case nsfw_level_label
            when 'None' then 1
            when 'Soft' then 2
            when 'Mature' then 4
            when 'X' then 8  -- X and XXX are merged in the label: the lower bound
            when 'Blocked' then 32
        end
    ) as browsing_level,
    case
        when browsing_level is not null then 'browsingLevel'
        when nsfw_level_label is not null then 'label'
    end as level_source,
    base_model,
    coalesce(model_version_ids, {{ empty_list() }}) as model_version_ids,
    {{ list_transform('coalesce(tags, ' ~ empty_list() ~ ')', 't', 'lower(t)') }} as tags,
    username
from source
