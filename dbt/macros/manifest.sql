{#
  The sum of a manifest's per-field counts (`unparsed`, `odd_values`: {"table.column": n}), or
  null for a snapshot whose manifest predates the count (not counted is not zero).
#}
{% macro manifest_count_sum(key) -%}
    case
        when {{ json_has('content', '$.' ~ key) }}
            then cast({{ json_sum('content', '$.' ~ key) }} as bigint)
    end
{%- endmacro %}
