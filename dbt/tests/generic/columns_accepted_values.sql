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
select column_name, n_unaccepted
from (
    select
        names.column_name,
        case names.column_index
        {%- for check in accepted %}
            when {{ loop.index }} then counted.n_unaccepted_{{ loop.index }}
        {%- endfor %}
        end as n_unaccepted
    from (
        select
        {%- for check in accepted %}
            sum(case when {{ check.column }} not in (
                {%- for value in check['values'] -%}
                {{ sql_string(value) if check.get('quote', true) else value }}{{ ", " if not loop.last }}
                {%- endfor -%}
            ) then 1 else 0 end) as n_unaccepted_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ model }}
    ) as counted
    cross join (
        {%- for check in accepted %}
        select {{ loop.index }} as column_index, {{ sql_string(check.column) }} as column_name{{ " union all" if not loop.last }}
        {%- endfor %}
    ) as names
) as per_column
where n_unaccepted > 0
{% endtest %}
