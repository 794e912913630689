{#
  The rows of a merged data test (columns_not_null, columns_accepted_values, expressions_are_true,
  columns_in_unit_interval):
  one aggregate over the model computes every `counts` expression in one scan, and a row per name
  whose count is above zero comes back (`name_column`, `count_column`), so a failure still says
  which column or expression. `names` and `counts` pair up by position.
#}
{% macro counted_per_name(model, names, counts, name_column, count_column) %}
select {{ name_column }}, {{ count_column }}
from (
    select
        names.{{ name_column }},
        case names.name_index
        {%- for count in counts %}
            when {{ loop.index }} then counted.n_{{ loop.index }}
        {%- endfor %}
        end as {{ count_column }}
    from (
        select
        {%- for count in counts %}
            {{ count }} as n_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ model }}
    ) as counted
    cross join (
        {%- for name in names %}
        select {{ loop.index }} as name_index, {{ sql_string(name) }} as {{ name_column }}{{ " union all" if not loop.last }}
        {%- endfor %}
    ) as names
) as per_name
where {{ count_column }} > 0
{% endmacro %}
