{#
  Each of these columns holds only its accepted values (or null, as dbt's accepted_values): one
  test node for all of a model's columns whose checks share a config, where dbt's own test is a
  node per column. The table is scanned once: one aggregate counts each column's rows with a value
  outside its list, and the test returns a row per column that has any (`column_name`,
  `n_unaccepted`), so a failure still says which column (the build record and `hubwatch build`'s
  error line quote those rows; `select <column>, count(*) ... group by 1` then shows the values).
  dbt's failure count is the number of such rows over all the columns (fail_calc).
  `accepted`: a list of {column, values, quote (default true: the values are strings)}.
#}
{% test columns_accepted_values(model, accepted) %}
{{ config(fail_calc = 'coalesce(sum(n_unaccepted), 0)') }}
{%- set counts = [] -%}
{%- for check in accepted -%}
    {%- set values = [] -%}
    {%- for value in check['values'] %}{% do values.append(sql_string(value) if check.get('quote', true) else value) %}{% endfor -%}
    {%- do counts.append('sum(case when ' ~ check.column ~ ' not in (' ~ values | join(', ') ~ ') then 1 else 0 end)') -%}
{%- endfor -%}
{{ counted_per_name(model, accepted | map(attribute='column') | list, counts, 'column_name', 'n_unaccepted') }}
{% endtest %}
