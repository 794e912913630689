-- What each complete model snapshot saw arrive and go, against the previous snapshot of the
-- same source and scope. n_removed counts models that were active and are now absent;
-- takedowns and archives are counted where their mode first shows (even at a first sighting).
-- Counted from what is kept per snapshot (int_model_snapshot_changes) and per model
-- (int_model_history, models), each updated from the new snapshot alone: no model snapshot of
-- history is read again.
with changes as (
    select * from {{ ref('int_model_snapshot_changes') }}
),

history as (
    select platform, model_id, first_seen, first_taken_down, first_archived from {{ ref('int_model_history') }}
),

firsts as (
    select platform, first_seen as snapshot_date, count(*) as n_new from history group by platform, first_seen
),

taken_down as (
    select platform, first_taken_down as snapshot_date, count(*) as n_taken_down
    from history where first_taken_down is not null group by platform, first_taken_down
),

archived as (
    select platform, first_archived as snapshot_date, count(*) as n_archived
    from history where first_archived is not null group by platform, first_archived
),

removed as (
    select platform, snapshot_date, {{ unnest('removed_model_ids') }} as model_id from changes
),

real_person_removed as (  -- by what is known of each model now, from any snapshot
    select removed.platform, removed.snapshot_date, count(*) as n_real_person_removed
    from removed
    inner join {{ ref('models') }} as models on models.platform = removed.platform and models.model_id = removed.model_id
    where models.real_person
    group by removed.platform, removed.snapshot_date
)

select
    changes.platform,
    changes.snapshot_date,
    changes.n_visible,
    coalesce(firsts.n_new, 0) as n_new,
    changes.n_removed,
    coalesce(taken_down.n_taken_down, 0) as n_taken_down,
    coalesce(archived.n_archived, 0) as n_archived,
    coalesce(real_person_removed.n_real_person_removed, 0) as n_real_person_removed
from changes
left join firsts on firsts.platform = changes.platform and firsts.snapshot_date = changes.snapshot_date
left join taken_down on taken_down.platform = changes.platform and taken_down.snapshot_date = changes.snapshot_date
left join archived on archived.platform = changes.platform and archived.snapshot_date = changes.snapshot_date
left join real_person_removed
    on real_person_removed.platform = changes.platform and real_person_removed.snapshot_date = changes.snapshot_date
