{#
  The rows of a `checks` test (tests/generic/checks.sql): a row per check that some rows fail
  (`kind`, `checked`, `n_failing`). `counted`: [kind, what is checked, an aggregate over the model
  counting the rows that fail it], all computed in one scan of the model; `keys`: [kind, the key's
  columns, the query of its repeated keys (repeated_keys)], each counted by its own grouping.
#}
{% macro failing_checks(model, counted, keys) %}
select kind, checked, n_failing
from (
{%- if counted %}
    select
        checked_names.kind,
        checked_names.checked,
        case checked_names.check_index
        {%- for check in counted %}
            when {{ loop.index }} then counts.n_{{ loop.index }}
        {%- endfor %}
        end as n_failing
    from (
        select
        {%- for check in counted %}
            {{ check[2] }} as n_{{ loop.index }}{{ "," if not loop.last }}
        {%- endfor %}
        from {{ model }}
    ) as counts
    cross join (
        {%- for check in counted %}
        select {{ loop.index }} as check_index, {{ sql_string(check[0]) }} as kind, {{ sql_string(check[1]) }} as checked{{ " union all" if not loop.last }}
        {%- endfor %}
    ) as checked_names
{%- endif %}
{%- for key in keys %}
    {{ "union all" if counted or not loop.first }}
    select {{ sql_string(key[0]) }} as kind, {{ sql_string(key[1]) }} as checked, count(*) as n_failing
    from ({{ key[2] }}) as repeated_{{ loop.index }}
{%- endfor %}
) as per_check
where n_failing > 0
{% endmacro %}

{#
  The keys (these columns' values) more than one row of the model holds: with `changed_rows`, the
  keys of the rows it selects, looked for in every row; with `rows`, among the rows it selects
  (where `unique_index` is given, only while DuckDB holds that unique index on these columns);
  see checks.sql's `grain`.
#}
{% macro repeated_keys(model, columns, changed_rows=none, rows=none, unique_index=none) %}
{%- set key = columns | join(', ') -%}
{%- set indexed = unique_index is none or (model.identifier is defined and grain_index_holds(model, unique_index, columns)) -%}
select {{ key }}
from {{ model }}
{%- if changed_rows %}
where ({{ key }}) in (select {{ key }} from {{ model }} where {{ changed_rows }})
{%- elif rows and indexed %}
where {{ rows }}
{%- endif %}
group by {{ key }}
having count(*) > 1
{%- endmacro %}

{#
  The values of `column` under which the model holds another number of rows than `expected` (a
  query of that column and n_rows) gives; a value missing on either side counts as none.
#}
{% macro groups_of_another_size(model, column, expected) %}
select coalesce(actual.{{ column }}, expected.{{ column }}) as {{ column }}
from (select {{ column }}, count(*) as n_rows from {{ model }} group by {{ column }}) as actual
full outer join ({{ expected }}) as expected on expected.{{ column }} = actual.{{ column }}
where coalesce(actual.n_rows, 0) <> coalesce(expected.n_rows, 0)
{%- endmacro %}
