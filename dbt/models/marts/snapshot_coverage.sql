-- What each complete snapshot covered and how the crawl went (from its manifest), and how many of
-- its items have no creation date (kept, but left out of the monthly tables: see monthly_coverage).
with snapshots as (
    select * from {{ ref('stg_hubwatch__snapshots') }}
),

undated as (
    select platform, 'model' as entity, snapshot_date, count(*) as n_undated
    from {{ ref('model_snapshots') }}
    where created_at is null
    group by all
    union all
    select platform, 'image', snapshot_date, count(*)
    from {{ ref('int_image_sightings') }}
    where created_at is null
    group by all
)

select
    snapshots.source,
    snapshots.snapshot_date,
    snapshots.kind,
    snapshots.scope,
    snapshots.host,
    snapshots.params,
    snapshots.pages,
    snapshots.items,
    snapshots.complete,
    cast(snapshots.errors as bigint) as errors,
    snapshots.started_at,
    snapshots.finished_at,
    snapshots.n_unparsed_timestamps,
    snapshots.n_odd_values,
    snapshots.n_skipped_invalid,
    snapshots.n_input_files,
    snapshots.inputs_sha256,
    coalesce(undated.n_undated, 0) as n_undated,
    snapshots.cross_host_bases,
    snapshots.cross_host_divergent,
    snapshots.cross_host_divergent_levels
from snapshots
inner join {{ ref('int_snapshots') }} as chain using (source, snapshot_date)
left join undated
    on undated.platform = chain.platform
    and undated.entity = chain.entity
    and undated.snapshot_date = snapshots.snapshot_date
