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
    finished_at,
    n_unparsed_timestamps,
    n_odd_values,
    n_skipped_invalid,
    n_input_files,
    inputs_sha256
from {{ ref('stg_hubwatch__snapshots') }}
