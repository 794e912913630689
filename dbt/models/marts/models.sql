-- One row per model ever seen in a complete snapshot: when it was first and last seen, whether
-- and how it went away, and its latest known attributes. Real-person tiers are true when any
-- snapshot showed the signal (the API forces `poi` false once a model is hidden). What needs the whole
-- history is kept per model in int_model_history, which a daily build updates from the new snapshot.
with history as (  -- kept per model, updated from each new snapshot alone
    select * from {{ ref('int_model_history') }}
),

next_snapshot as (  -- the next complete snapshot (same source and scope) after the last sighting
    select platform, snapshot_date, min(next_snapshot_date) as next_snapshot_date
    from {{ ref('int_snapshots') }}
    where entity = 'model'
    group by all
)

select
    history.platform,
    history.model_id,
    history.first_seen,
    history.last_seen,
    next_snapshot.next_snapshot_date as removed_on,
    case
        when history.status = 'taken_down' then 'taken_down'
        when history.status = 'archived' then 'archived'
        when next_snapshot.next_snapshot_date is not null then 'absent'
    end as removal_kind,
    history.name,
    history.model_type,
    history.base_model,
    history.base_model_family,
    history.booru_base_model,
    history.created_at,
    cast(date_trunc('month', history.created_at) as date) as month,
    history.creator_hash,
    history.nsfw_declared,
    history.nsfw_level,
    history.nsfw_any,
    history.nsfw_strict,
    history.real_person,
    history.real_person_declared,
    history.real_person_tagged,
    history.real_person_name_match,
    history.real_person_hash_match,
    history.target_gender,
    history.downloads_total,
    history.downloads_30d,
    history.status,
    history.tags
from history
left join next_snapshot
    on next_snapshot.platform = history.platform and next_snapshot.snapshot_date = history.last_seen
