{#
  The grain holds: no two rows share these columns. With `changed_rows` (a condition on the
  model's rows), only the keys of the rows it selects are looked for, though across the whole
  table: on a table a daily build appends to, the rows it did not write were checked by the
  build that wrote them, and regrouping 40M keys every day would cost more than the day's load.
  With `rows`, only the rows it selects are grouped at all: for a grain that contains what the
  condition selects by (a view over every snapshot, keyed by snapshot), where two rows sharing
  the key would both be selected.
  With `unique_index` (a name: see grain_index.sql), `rows` applies only while DuckDB holds the
  grain with that unique index on these columns (no repeat can be stored then); without it (Spark,
  or the index gone) every row is grouped.
#}
{% test unique_combination(model, combination, changed_rows=none, rows=none, unique_index=none) %}
{%- set key = combination | join(', ') -%}
{%- set indexed = unique_index is none or (model.identifier is defined and grain_index_holds(model, unique_index, combination)) -%}
select {{ key }}, count(*) as n_rows
from {{ model }}
{%- if changed_rows %}
where ({{ key }}) in (select {{ key }} from {{ model }} where {{ changed_rows }})
{%- elif rows and indexed %}
where {{ rows }}
{%- endif %}
group by {{ key }}
having count(*) > 1
{% endtest %}
