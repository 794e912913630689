-- What each complete snapshot covered and how the crawl went (from its manifest).
select
    source,
    snapshot_date,
    kind,
    scope,
    host,
    params,
    pages,
    items,
    complete,
    cast(errors as bigint) as errors,
    started_at,
    finished_at
from {{ ref('stg_hubwatch__snapshots') }}
