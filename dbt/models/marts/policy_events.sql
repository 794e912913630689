-- The policy and legal timeline, as data: every package carries the events its charts mark.
select
    event_date,
    end_date,
    scope,
    event,
    source_url,
    kind,
    label,
    coalesce(caveat, '') as caveat
from {{ ref('policy_timeline') }}
order by event_date, end_date nulls first, label
