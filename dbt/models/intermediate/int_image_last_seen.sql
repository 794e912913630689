{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_images_of_replaced_snapshots() }}",
    **incremental_by_item('image_id'),
) }}
-- One row per Civitai image ever seen in a complete snapshot: the first and the last snapshot that
-- saw it, and the creation month and NSFW tiers that last sighting gives. This is where an image's
-- latest sighting is decided (`images` takes its attributes from that sighting), and it is kept
-- narrow and read straight from staging so that nsfw_share_monthly counts images without waiting
-- for two wide per-image tables to be written.
-- A daily build merges only the images the new snapshot saw (an image seen before keeps its
-- first_seen). A retaken snapshot also recomputes the images last seen in it, from their earlier
-- sightings in raw/ (a scan of history, paid only on a retake). See reload_from.
-- depends_on: {{ ref('int_snapshots') }}
{% set load_from = reload_from('civitai_images', date_column='last_seen', version_column='last_seen_version') %}
{% set retaken = is_incremental() and execute and run_query(
    "select count(*) from " ~ this ~ " where last_seen >= " ~ load_from
).columns[0].values()[0] > 0 %}

with snapshots as (
    select snapshot_date, snapshot_version from {{ ref('int_snapshots') }} where source = 'civitai_images'
),

sightings as (  -- the sightings in the snapshots this build (re)loads
    select image_id, snapshot_date, created_at, browsing_level
    from {{ ref('stg_civitai__images') }}
    where snapshot_date >= {{ load_from }}
    {% if retaken %}
        -- and every sighting of the images last seen in a snapshot being reloaded
        or image_id in (select image_id from {{ this }} where last_seen >= {{ load_from }})
    {% endif %}
),

latest as (
    select
        image_id,
        min(snapshot_date) as first_seen,
        max(snapshot_date) as last_seen,
        {{ arg_max('created_at', 'snapshot_date') }} as created_at,
        {{ arg_max('browsing_level', 'snapshot_date') }} as browsing_level
    from sightings
    where snapshot_date in (select snapshot_date from snapshots)  -- complete snapshots only
    group by image_id
)

select
    latest.image_id,
    {% if is_incremental() -%}
    -- a sighting before the reloaded snapshots stays valid; one in them was just re-read
    least(latest.first_seen, case when earlier.first_seen < {{ load_from }} then earlier.first_seen end)
    {%- else -%}
    latest.first_seen
    {%- endif %} as first_seen,
    latest.last_seen,
    snapshots.snapshot_version as last_seen_version,
    cast(date_trunc('month', latest.created_at) as date) as month,
    {{ civitai_image_nsfw('latest.browsing_level', nsfw_any_mask()) }} as nsfw_any,
    {{ civitai_image_nsfw('latest.browsing_level', nsfw_strict_mask()) }} as nsfw_strict,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from latest
inner join snapshots on snapshots.snapshot_date = latest.last_seen
{% if is_incremental() %}
left join {{ this }} as earlier on earlier.image_id = latest.image_id
{% endif %}
