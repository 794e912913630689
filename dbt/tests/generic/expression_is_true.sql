{# Every row satisfies the expression (invariants between columns). #}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
