{{ config(on_schema_change='fail', **incremental_by_snapshot('snapshot_date')) }}
-- One row per Civitai image per snapshot that saw it, with its NSFW tiers (from browsingLevel),
-- and when the build that loaded it started (what the grain tests of a daily build look at).
-- image_id stays an integer here (cheaper to store, sort and group); `images` publishes it as text.
-- depends_on: {{ ref('int_snapshots') }}

with snapshots as ({{ snapshots_to_load('civitai_images') }})

select
    'civitai' as platform,
    images.image_id,
    images.snapshot_date,
    snapshots.snapshot_version,
    images.created_at,
    images.browsing_level,
    images.level_source,
    {{ civitai_image_nsfw('images.browsing_level', nsfw_any_mask()) }} as nsfw_any,
    {{ civitai_image_nsfw('images.browsing_level', nsfw_strict_mask()) }} as nsfw_strict,
    {{ civitai_image_nsfw('images.browsing_level', nsfw_explicit_mask()) }} as nsfw_explicit,
    images.base_model,
    images.tags,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from {{ ref('stg_civitai__images') }} as images
inner join snapshots using (snapshot_date)
where images.snapshot_date >= {{ reload_from('civitai_images') }}
