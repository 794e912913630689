{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['platform', 'image_id'],
    on_schema_change='fail',
    post_hook="{{ delete_images_of_replaced_snapshots() }}",
) }}
-- One row per image ever seen in a complete snapshot, with its latest known attributes.
-- A daily build recomputes only the images the new snapshots saw (and those last seen in a
-- snapshot being reloaded), not the whole history: see reload_from.
-- depends_on: {{ ref('int_snapshots') }}
{% set load_from = reload_from('civitai_images', date_column='last_seen', version_column='last_seen_version') %}

with sightings as (  -- Civitai only: image_id is the grain
    select * from {{ ref('int_image_sightings') }}
    {% if is_incremental() %}
    where image_id in (
        select image_id from {{ ref('int_image_sightings') }} where snapshot_date >= {{ load_from }}
        union all
        select cast(image_id as bigint) from {{ this }} where last_seen >= {{ load_from }}
    )
    {% endif %}
),

seen as (
    select image_id, min(snapshot_date) as first_seen, max(snapshot_date) as last_seen
    from sightings
    group by image_id
)

select
    latest.platform,
    cast(latest.image_id as varchar) as image_id,
    latest.created_at,
    cast(date_trunc('month', latest.created_at) as date) as month,
    latest.browsing_level,
    latest.level_source,
    latest.nsfw_any,
    latest.nsfw_strict,
    latest.nsfw_explicit,
    latest.base_model,
    latest.tags,
    seen.first_seen,
    seen.last_seen,
    latest.snapshot_version as last_seen_version
from sightings as latest
inner join seen on seen.image_id = latest.image_id and seen.last_seen = latest.snapshot_date
