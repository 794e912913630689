{# A share is a number in [0, 1], never null. #}
{% test share_in_unit_interval(model, column_name) %}
select * from {{ model }} where {{ column_name }} is null or {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
