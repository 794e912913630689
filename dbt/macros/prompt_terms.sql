{#
  Prompt vocabulary (rule set v2, #21). A family is in a prompt when any of its seed patterns
  (rules_prompt_terms.pattern: a regular expression over the normalised prompt, bounded by
  non-alphanumeric characters) matches. Regular-expression matching has no standard SQL form:
  DuckDB's regexp_matches (RE2) here, Spark's rlike (Java) there; the seed uses only what both take.
#}
{% macro prompt_matches(text, pattern) -%}
    {{ return(adapter.dispatch('prompt_matches')(text, pattern)) }}
{%- endmacro %}

{% macro default__prompt_matches(text, pattern) -%}
    regexp_matches({{ text }}, {{ pattern }})
{%- endmacro %}

{% macro spark__prompt_matches(text, pattern) -%}
    ({{ text }} rlike {{ pattern }})
{%- endmacro %}
