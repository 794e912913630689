{#
  A value made safe inside a single-quoted SQL string literal: the one way a path or a setting
  (a var, the dbt version, a seed's cell on Spark) becomes SQL text, as ingest.files.sql_text
  does in Python. A home under o'brien/ must still build. DuckDB doubles a quote; Spark's parser
  reads backslash escapes in every string literal, so there a backslash is doubled and a quote
  escaped with one.
#}
{% macro sql_string(value) %}{{ return(adapter.dispatch('sql_string')(value)) }}{% endmacro %}

{% macro duckdb__sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_string(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
