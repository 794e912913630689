-- The one row that says under which rules, from which snapshots and by which dbt invocation
-- these tables were built (publish checks the invocation against the build record).
select
    {{ sql_string(var("rules_version")) }} as rules_version,
    current_timestamp as built_at,
    (select min(snapshot_date) from {{ ref('int_snapshots') }}) as first_snapshot,
    (select max(snapshot_date) from {{ ref('int_snapshots') }}) as last_snapshot,
    (select {{ list_agg_distinct_sorted('kind') }} from {{ ref('int_snapshots') }}) as snapshot_kinds,
    {{ sql_string(var("hubwatch_version")) }} as hubwatch_version,
    {{ sql_string(dbt_version) }} as dbt_version,
    {{ duckdb_version() }} as duckdb_version,
    {{ sql_string(invocation_id) }} as dbt_invocation_id,
    {{ engine_name() }} as engine,
    {{ engine_version() }} as engine_version
