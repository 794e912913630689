-- Civitai images per snapshot. browsing_level is the API's integer level; a crawl that only
-- has the lossy label (2023 tables) falls back to it, and level_source says which was used.
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
    coalesce(model_version_ids, []) as model_version_ids,
    list_transform(coalesce(tags, []), lambda t: lower(t)) as tags,
    username
from source
qualify row_number() over (partition by snapshot_date, image_id order by created_at) = 1
