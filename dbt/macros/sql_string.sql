{#
  A value made safe inside a single-quoted SQL string literal: the one way a path or a setting
  (a var, the dbt version) becomes SQL text, as ingest.files.sql_text does in Python. A home
  under o'brien/ must still build.
#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
