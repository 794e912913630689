{#
  Each of these columns is a share: a number in [0, 1], never null. One test node for all of a
  model's shares (a `share_in_unit_interval` test per column was a dbt node each, ~30 ms of dbt's
  own Python apiece), the table scanned once: one aggregate counts each column's rows outside
  [0, 1] or null, and the test returns a row per column that has any (`column_name`,
  `n_outside`), so a failure still says which column (the build record and `hubwatch build`'s
  error line quote those rows). dbt's failure count is the number of such rows over all the
  columns (fail_calc). Named `share_in_unit_interval_<model>`.
#}
{% test columns_in_unit_interval(model, columns) %}
{{ config(fail_calc = 'coalesce(sum(n_outside), 0)') }}
{%- set counts = [] -%}
{%- for column in columns %}{% do counts.append('count(*) - count(case when ' ~ column ~ ' between 0 and 1 then 1 end)') %}{% endfor -%}
{{ counted_per_name(model, columns, counts, 'column_name', 'n_outside') }}
{% endtest %}
