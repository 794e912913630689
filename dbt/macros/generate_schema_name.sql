{# Schemas are named literally (staging, intermediate, marts, rules): users query marts.* #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
