{#
  None of these columns holds a null: one test node for all of a model's not-null columns (a
  `not_null` test per column was a dbt node each, ~40 ms of dbt's own Python apiece, 229 of them in
  a build). The table is scanned once: one aggregate counts every column's nulls, and the test
  returns a row per column that has any (`column_name`, `n_null`), so a failure still says which
  column, and how often (the build record and `hubwatch build`'s error line quote those rows).
  dbt's failure count is the number of nulls over all the columns (fail_calc), as the separate
  tests' counts added up. Written by a script from column-level `not_null` entries, one test per
  model and config (severity, where): see README, "Checks".
#}
{% test columns_not_null(model, columns) %}
{{ config(fail_calc = 'coalesce(sum(n_null), 0)') }}
{%- set counts = [] -%}
{%- for column in columns %}{% do counts.append('count(*) - count(' ~ column ~ ')') %}{% endfor -%}
{{ counted_per_name(model, columns, counts, 'column_name', 'n_null') }}
{% endtest %}
