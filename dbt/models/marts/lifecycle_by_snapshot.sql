-- What each complete model snapshot saw arrive and go, against the previous snapshot of the
-- same source and scope. n_removed counts models that were active and are now absent;
-- takedowns and archives are counted where their mode first shows (even at a first sighting).
with chain as (
    select platform, snapshot_date, prev_snapshot_date from {{ ref('int_snapshots') }} where entity = 'model'
),

sightings as (
    select platform, model_id, snapshot_date, status from {{ ref('model_snapshots') }}
),

firsts as (
    select platform, model_id, min(snapshot_date) as first_seen from sightings group by all
),

first_modes as (
    select platform, model_id, status, min(snapshot_date) as snapshot_date
    from sightings where status in ('taken_down', 'archived') group by all
),

removed as (
    select chain.platform, chain.snapshot_date, before.model_id
    from chain
    inner join sightings as before
        on before.platform = chain.platform and before.snapshot_date = chain.prev_snapshot_date
    left join sightings as now
        on now.platform = chain.platform and now.snapshot_date = chain.snapshot_date and now.model_id = before.model_id
    where before.status = 'active' and now.model_id is null
),

counts as (
    select
        chain.platform,
        chain.snapshot_date,
        (select count(*) from sightings s where s.platform = chain.platform and s.snapshot_date = chain.snapshot_date) as n_visible,
        (select count(*) from firsts f where f.platform = chain.platform and f.first_seen = chain.snapshot_date) as n_new,
        (select count(*) from removed r where r.platform = chain.platform and r.snapshot_date = chain.snapshot_date) as n_removed,
        (select count(*) from first_modes m where m.platform = chain.platform and m.snapshot_date = chain.snapshot_date and m.status = 'taken_down') as n_taken_down,
        (select count(*) from first_modes m where m.platform = chain.platform and m.snapshot_date = chain.snapshot_date and m.status = 'archived') as n_archived,
        (
            select count(*) from removed r
            inner join {{ ref('models') }} as models on models.platform = r.platform and models.model_id = r.model_id
            where r.platform = chain.platform and r.snapshot_date = chain.snapshot_date and models.real_person
        ) as n_real_person_removed
    from chain
)

select * from counts
