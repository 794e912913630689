{#
  A fingerprint of a set of rows: their number and the sum of one 64-bit hash of each row's columns
  (DuckDB's hash; Spark's xxhash64 of the row as JSON, so that a NULL in one column never hashes
  like the same value in the next). Two sides with equal fingerprints hold the same rows but for a
  collision of the sums (negligible, not nil: the hashes are not independent for rows that differ
  in a pattern); computed streaming, in constant memory. A file of its own: only a data test calls
  it, and a change to portable.sql, which every model's logic includes (dagster_project/model_logic.py
  hashes a macro's file), would rebuild every incremental table at the next build.
#}
{% macro rows_fingerprint(columns) %}{{ return(adapter.dispatch('rows_fingerprint')(columns)) }}{% endmacro %}
{% macro duckdb__rows_fingerprint(columns) %}count(*) as n_rows, coalesce(sum(hash({{ columns | join(', ') }})), 0) as hash_sum{% endmacro %}
{% macro spark__rows_fingerprint(columns) %}count(*) as n_rows, coalesce(sum(cast(xxhash64(to_json(struct({{ columns | join(', ') }}))) as decimal(38, 0))), 0) as hash_sum{% endmacro %}
