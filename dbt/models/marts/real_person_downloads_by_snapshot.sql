-- Downloads of the models that depict a real person (any tier, in any snapshot), per platform and
-- complete model snapshot: what the snapshot listed, and a running total of the downloads they
-- accrued (macro downloads_accrued): each model's counter at its first sighting with one, then only
-- its increases. A counter that fell adds nothing and is counted (n_counter_falls, downloads_fallen).
-- Each snapshot's own figures are kept in int_real_person_downloads, which a daily build updates
-- from the new snapshot; here they are only added up (a row per snapshot: cheap whatever the history).
with snapshots as (
    select distinct platform, snapshot_date from {{ ref('int_snapshots') }} where entity = 'model'
),

per_snapshot as (
    select
        snapshots.platform,
        snapshots.snapshot_date,
        coalesce(steps.n_listed, 0) as n_listed,
        coalesce(steps.n_listed_with_downloads, 0) as n_listed_with_downloads,
        case when steps.n_listed_with_downloads > 0 then steps.downloads_listed end as downloads_listed,
        coalesce(steps.n_new, 0) as n_new,
        coalesce(steps.downloads_added, 0) as accrued,
        coalesce(steps.n_counter_falls, 0) as n_counter_falls,
        coalesce(steps.downloads_fallen, 0) as downloads_fallen
    from snapshots
    left join {{ ref('int_real_person_downloads') }} as steps
        on steps.platform = snapshots.platform and steps.snapshot_date = snapshots.snapshot_date
)

select
    platform,
    snapshot_date,
    n_listed,
    n_listed_with_downloads,
    cast(downloads_listed as bigint) as downloads_listed,
    cast(sum(n_new) over running as bigint) as n_seen,
    cast(accrued as bigint) as downloads_added,
    cast(sum(accrued) over running as bigint) as downloads_accrued,
    cast(n_counter_falls as bigint) as n_counter_falls,
    cast(downloads_fallen as bigint) as downloads_fallen
from per_snapshot
window running as (partition by platform order by snapshot_date rows between unbounded preceding and current row)
