-- Models listed by a snapshot = those listed by the previous snapshot of its chain (same source
-- and scope) + new - removed (active before, absent now) - those that left while carrying a mode
-- (taken down or archived before, absent now) + those that came back after an absence. The last
-- two are not columns of lifecycle_by_snapshot, so they are counted here from model_snapshots;
-- with them the equality is exact, and a row of the chain where it does not hold fails.
-- Only the snapshots the latest build (re)loaded are checked (int_model_snapshot_changes.loaded_at;
-- after a full refresh, every one). The rest cannot have changed since the build that loaded them
-- checked them: every input of a row's equation comes from its own snapshot and earlier ones (the
-- counts of it and of its predecessor, their sightings, whether a model was seen before it), and
-- a build reloads every snapshot from the earliest new or retaken one on (int_model_snapshot_changes,
-- model_snapshots), while int_model_history keeps the first sightings of those earlier snapshots as
-- they were; a withdrawn snapshot makes the build a full refresh.
with checked as (
    select platform, snapshot_date
    from {{ ref('int_model_snapshot_changes') }}
    where loaded_at = (select max(loaded_at) from {{ ref('int_model_snapshot_changes') }})
),

chain as (
    select snapshots.platform, snapshots.snapshot_date, snapshots.prev_snapshot_date
    from {{ ref('int_snapshots') }} as snapshots
    inner join checked on checked.platform = snapshots.platform and checked.snapshot_date = snapshots.snapshot_date
    where snapshots.entity = 'model' and snapshots.prev_snapshot_date is not null
),

sightings as (  -- the sightings of the checked snapshots and of their predecessors
    select platform, model_id, snapshot_date, status
    from {{ ref('model_snapshots') }}
    where (platform, snapshot_date) in (
        select platform, snapshot_date from chain
        union
        select platform, prev_snapshot_date from chain
    )
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

arrived as (  -- listed now and not by the previous snapshot: new, or back after an absence
    select chain.platform, chain.snapshot_date, now.model_id
    from chain
    inner join sightings as now
        on now.platform = chain.platform and now.snapshot_date = chain.snapshot_date
    left join sightings as before
        on before.platform = chain.platform and before.snapshot_date = chain.prev_snapshot_date and before.model_id = now.model_id
    where before.model_id is null
),

firsts as (  -- the first sighting of each of those, from every snapshot
    select platform, model_id, min(snapshot_date) as first_seen
    from {{ ref('model_snapshots') }}
    where (platform, model_id) in (select platform, model_id from arrived)
    group by all
),

came_back as (
    select arrived.platform, arrived.snapshot_date, count(*) as n_models
    from arrived
    inner join firsts
        on firsts.platform = arrived.platform and firsts.model_id = arrived.model_id and firsts.first_seen < arrived.snapshot_date
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
