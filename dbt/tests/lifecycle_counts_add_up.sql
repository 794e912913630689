-- Models listed by a snapshot = those listed by the previous snapshot of its chain (same source
-- and scope) + new - removed (active before, absent now) - those that left while carrying a mode
-- (taken down or archived before, absent now) + those that came back after an absence. The last
-- two are not columns of lifecycle_by_snapshot, so they are counted here from model_snapshots;
-- with them the equality is exact, and a row of the chain where it does not hold fails.
with chain as (
    select platform, snapshot_date, prev_snapshot_date
    from {{ ref('int_snapshots') }}
    where entity = 'model' and prev_snapshot_date is not null
),

sightings as (
    select platform, model_id, snapshot_date, status from {{ ref('model_snapshots') }}
),

firsts as (
    select platform, model_id, min(snapshot_date) as first_seen from sightings group by all
),

left_with_mode as (
    select chain.platform, chain.snapshot_date, count(*) as n_models
    from chain
    inner join sightings as before
        on before.platform = chain.platform and before.snapshot_date = chain.prev_snapshot_date
    left join sightings as now
        on now.platform = chain.platform and now.snapshot_date = chain.snapshot_date and now.model_id = before.model_id
    where now.model_id is null and before.status is distinct from 'active'
    group by all
),

came_back as (
    select chain.platform, chain.snapshot_date, count(*) as n_models
    from chain
    inner join sightings as now
        on now.platform = chain.platform and now.snapshot_date = chain.snapshot_date
    inner join firsts
        on firsts.platform = now.platform and firsts.model_id = now.model_id and firsts.first_seen < chain.snapshot_date
    left join sightings as before
        on before.platform = chain.platform and before.snapshot_date = chain.prev_snapshot_date and before.model_id = now.model_id
    where before.model_id is null
    group by all
)

select
    chain.platform,
    chain.snapshot_date,
    now.n_visible,
    before.n_visible as n_visible_before,
    now.n_new,
    now.n_removed,
    coalesce(left_with_mode.n_models, 0) as n_left_with_mode,
    coalesce(came_back.n_models, 0) as n_came_back
from chain
inner join {{ ref('lifecycle_by_snapshot') }} as now
    on now.platform = chain.platform and now.snapshot_date = chain.snapshot_date
inner join {{ ref('lifecycle_by_snapshot') }} as before
    on before.platform = chain.platform and before.snapshot_date = chain.prev_snapshot_date
left join left_with_mode
    on left_with_mode.platform = chain.platform and left_with_mode.snapshot_date = chain.snapshot_date
left join came_back
    on came_back.platform = chain.platform and came_back.snapshot_date = chain.snapshot_date
where now.n_visible
    <> before.n_visible + now.n_new - now.n_removed - coalesce(left_with_mode.n_models, 0) + coalesce(came_back.n_models, 0)
