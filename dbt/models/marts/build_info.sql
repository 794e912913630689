-- The one row that says under which rules and from which snapshots these tables were built.
select
    '{{ var("rules_version") }}' as rules_version,
    current_timestamp as built_at,
    (select min(snapshot_date) from {{ ref('int_snapshots') }}) as first_snapshot,
    (select max(snapshot_date) from {{ ref('int_snapshots') }}) as last_snapshot,
    (select list(distinct kind order by kind) from {{ ref('int_snapshots') }}) as snapshot_kinds,
    '{{ env_var("HUBWATCH_VERSION", "unknown") }}' as hubwatch_version,
    '{{ dbt_version }}' as dbt_version,
    (select library_version from pragma_version()) as duckdb_version
