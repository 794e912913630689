-- One row per complete Civitai image snapshot: how its crawl covered the feed, from the manifest's
-- `images_feed` record (written by ingest/civitai_images.py). Snapshots taken before that record
-- existed crawled the API's own `period` window; imports are a third party's crawl.
with manifests as (
    select content from {{ source('raw', 'manifests') }}
    where {{ json_string('content', '$.source') }} = 'civitai_images'
),

fields as (
    select
        cast({{ json_string('content', '$.snapshot_date') }} as date) as snapshot_date,
        {{ json_string('content', '$.kind') }} as kind,
        {{ json_string('content', '$.images_feed.mode') }} as mode,
        {{ json_string('content', '$.images_feed.resweep') }} as resweep,
        coalesce(
            {{ json_string('content', '$.images_feed.period') }},
            {{ json_string('content', '$.params.params.period') }}
        ) as period,
        cast({{ json_string('content', '$.images_feed.stop_at') }} as {{ type_instant() }}) as swept_back_to,
        cast({{ json_string('content', '$.images_feed.high_water_mark') }} as {{ type_instant() }}) as high_water_mark,
        cast({{ json_value('content', '$.images_feed.overlap_seconds') }} as double) / 3600 as overlap_hours,
        {{ json_string('content', '$.images_feed.stop_reason') }} as stop_reason,
        cast({{ json_value('content', '$.images_feed.items_past_stop') }} as bigint) as n_items_past_stop,
        cast({{ json_value('content', '$.images_feed.items_future') }} as bigint) as n_items_future,
        cast({{ json_value('content', '$.images_feed.items_undated') }} as bigint) as n_items_undated
    from manifests
)

select
    snapshot_date,
    case
        when kind = 'imported' then 'imported'
        when mode = 'feed' and swept_back_to is null then 'backfill'
        when mode = 'feed' and resweep is not null then 'resweep'
        when mode = 'feed' then 'feed'
        else 'period'
    end as crawl,
    period,
    swept_back_to,
    high_water_mark,
    overlap_hours,
    stop_reason,
    n_items_past_stop,
    n_items_future,
    n_items_undated
from fields
