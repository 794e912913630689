-- Downloads of the models that depict a real person (any tier, in any snapshot), per platform and
-- complete model snapshot: what the snapshot listed, and a running total of the downloads they
-- accrued (macro downloads_accrued): each model's counter at its first sighting with one, then only
-- its increases. A counter that fell adds nothing and is counted (n_counter_falls, downloads_fallen).
with snapshots as (
    select distinct platform, snapshot_date from {{ ref('int_snapshots') }} where entity = 'model'
),

real_person as (
    select platform, model_id from {{ ref('models') }} where real_person
),

sightings as (
    select sightings.platform, sightings.model_id, sightings.snapshot_date, sightings.downloads_total
    from {{ ref('model_snapshots') }} as sightings
    inner join real_person
        on real_person.platform = sightings.platform and real_person.model_id = sightings.model_id
),

firsts as (
    select platform, model_id, min(snapshot_date) as first_seen from sightings group by platform, model_id
),

counted as (  -- each sighting with a counter, beside the model's previous sighting with one
    select
        platform,
        model_id,
        snapshot_date,
        downloads_total,
        lag(downloads_total) over (partition by platform, model_id order by snapshot_date) as previous
    from sightings
    where downloads_total is not null
),

steps as (
    select
        platform,
        snapshot_date,
        count(*) as n_with_downloads,
        sum(downloads_total) as downloads_listed,
        sum({{ downloads_accrued('downloads_total', 'previous') }}) as accrued,
        sum(case when downloads_total < previous then 1 else 0 end) as n_counter_falls,
        sum({{ downloads_fallen('downloads_total', 'previous') }}) as downloads_fallen
    from counted
    group by platform, snapshot_date
),

listed as (
    select platform, snapshot_date, count(*) as n_listed from sightings group by platform, snapshot_date
),

new as (
    select platform, first_seen as snapshot_date, count(*) as n_new from firsts group by platform, first_seen
),

per_snapshot as (
    select
        snapshots.platform,
        snapshots.snapshot_date,
        coalesce(listed.n_listed, 0) as n_listed,
        coalesce(steps.n_with_downloads, 0) as n_listed_with_downloads,
        steps.downloads_listed,
        coalesce(new.n_new, 0) as n_new,
        coalesce(steps.accrued, 0) as accrued,
        coalesce(steps.n_counter_falls, 0) as n_counter_falls,
        coalesce(steps.downloads_fallen, 0) as downloads_fallen
    from snapshots
    left join listed on listed.platform = snapshots.platform and listed.snapshot_date = snapshots.snapshot_date
    left join steps on steps.platform = snapshots.platform and steps.snapshot_date = snapshots.snapshot_date
    left join new on new.platform = snapshots.platform and new.snapshot_date = snapshots.snapshot_date
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
