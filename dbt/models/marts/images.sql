-- One row per image ever seen in a complete snapshot, with its latest known attributes.
select
    platform,
    image_id,
    arg_max(created_at, snapshot_date) as created_at,
    cast(date_trunc('month', arg_max(created_at, snapshot_date)) as date) as month,
    arg_max(browsing_level, snapshot_date) as browsing_level,
    arg_max(level_source, snapshot_date) as level_source,
    arg_max(nsfw_any, snapshot_date) as nsfw_any,
    arg_max(nsfw_strict, snapshot_date) as nsfw_strict,
    arg_max(nsfw_explicit, snapshot_date) as nsfw_explicit,
    arg_max(base_model, snapshot_date) as base_model,
    arg_max(tags, snapshot_date) as tags,
    min(snapshot_date) as first_seen,
    max(snapshot_date) as last_seen
from {{ ref('int_image_sightings') }}
group by platform, image_id
