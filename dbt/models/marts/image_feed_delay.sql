{{ config(on_schema_change='fail', **incremental_by_snapshot('snapshot_date')) }}
-- How long Civitai images took to reach hubwatch. For each complete image snapshot: the images it
-- was the first to see, and how many days passed between their creation and that snapshot. An image
-- enters the feed only once rated, sometimes weeks after it was created; a snapshot taken less often
-- than daily adds its own interval. n_created_before_previous counts the new images created before
-- the previous image snapshot's date: images that reached the feed late (or that a re-sweep found).
-- Kept per snapshot: a build computes the rows of the snapshots it (re)loads (reload_from), from the
-- images first seen in them. An image's first sighting moves only to or from such a snapshot (one
-- imported late, or retaken), and so does a snapshot's predecessor; a withdrawal is a full refresh.
-- depends_on: {{ ref('int_snapshots') }}
{%- set load_from = reload_from('civitai_images') %}
with snapshots as (
    select snapshot_date, snapshot_version, kind, prev_snapshot_date
    from {{ ref('int_snapshots') }}
    where source = 'civitai_images' and snapshot_date >= {{ load_from }}
),

feed as (
    select * from {{ ref('stg_hubwatch__image_feed') }}
),

new_images as (
    select
        images.first_seen as snapshot_date,
        {{ days_between('cast(images.created_at as date)', 'images.first_seen') }} as delay_days,
        cast(images.created_at as date) < snapshots.prev_snapshot_date as created_before_previous
    from {{ ref('images') }} as images
    inner join snapshots on snapshots.snapshot_date = images.first_seen
    where images.platform = 'civitai' and images.first_seen >= {{ load_from }}
),

delays as (
    select
        snapshot_date,
        count(*) as n_new_images,
        count(delay_days) as n_dated,
        {{ quantile_cont('delay_days', 0.5) }} as delay_days_p50,
        {{ quantile_cont('delay_days', 0.9) }} as delay_days_p90,
        max(delay_days) as delay_days_max,
        cast(count_if(created_before_previous) as bigint) as n_created_before_previous
    from new_images
    group by snapshot_date
)

select
    snapshots.snapshot_date,
    snapshots.kind,
    feed.crawl,
    snapshots.prev_snapshot_date as previous_snapshot_date,
    coalesce(delays.n_new_images, 0) as n_new_images,
    coalesce(delays.n_dated, 0) as n_dated,
    delays.delay_days_p50,
    delays.delay_days_p90,
    delays.delay_days_max,
    case
        when snapshots.prev_snapshot_date is not null then coalesce(delays.n_created_before_previous, 0)
    end as n_created_before_previous,
    feed.swept_back_to,
    feed.high_water_mark,
    feed.overlap_hours,
    feed.stop_reason,
    snapshots.snapshot_version
from snapshots
left join feed on feed.snapshot_date = snapshots.snapshot_date
left join delays on delays.snapshot_date = snapshots.snapshot_date
