{#
  The model holds exactly one row: a row for each count other than one (none included) fails.
#}
{% test exactly_one_row(model) %}
select n_rows
from (select count(*) as n_rows from {{ model }}) as counted
where n_rows <> 1
{% endtest %}
