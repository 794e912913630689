-- One row per model ever seen in a complete snapshot: when it was first and last seen, whether
-- and how it went away, and its latest known attributes. Real-person tiers are true when any
-- snapshot showed the signal (the API forces `poi` false once a model is hidden).
with sightings as (
    select * from {{ ref('model_snapshots') }}
),

history as (
    select
        platform,
        model_id,
        min(snapshot_date) as first_seen,
        max(snapshot_date) as last_seen,
        bool_or(real_person) as real_person,
        bool_or(real_person_declared) as real_person_declared,
        bool_or(real_person_tagged) as real_person_tagged,
        bool_or(real_person_name_match) as real_person_name_match,
        bool_or(real_person_hash_match) as real_person_hash_match
    from sightings
    group by platform, model_id
),

next_snapshot as (  -- the next complete snapshot (same source and scope) after the last sighting
    select platform, snapshot_date, min(next_snapshot_date) as next_snapshot_date
    from {{ ref('int_snapshots') }}
    where entity = 'model'
    group by all
)

select
    latest.platform,
    latest.model_id,
    history.first_seen,
    history.last_seen,
    next_snapshot.next_snapshot_date as removed_on,
    case
        when latest.status = 'taken_down' then 'taken_down'
        when latest.status = 'archived' then 'archived'
        when next_snapshot.next_snapshot_date is not null then 'absent'
    end as removal_kind,
    latest.name,
    latest.model_type,
    latest.base_model,
    latest.base_model_family,
    latest.booru_base_model,
    latest.created_at,
    cast(date_trunc('month', latest.created_at) as date) as month,
    latest.creator_hash,
    latest.nsfw_declared,
    latest.nsfw_level,
    latest.nsfw_any,
    latest.nsfw_strict,
    history.real_person,
    history.real_person_declared,
    history.real_person_tagged,
    history.real_person_name_match,
    history.real_person_hash_match,
    latest.target_gender,
    latest.downloads_total,
    latest.downloads_30d,
    latest.status,
    latest.tags
from history
inner join sightings as latest  -- the last sighting (a join: cheaper than a window over all history)
    on latest.platform = history.platform
    and latest.model_id = history.model_id
    and latest.snapshot_date = history.last_seen
left join next_snapshot
    on next_snapshot.platform = latest.platform and next_snapshot.snapshot_date = history.last_seen
