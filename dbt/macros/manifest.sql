{#
  The sum of a manifest's per-field counts (`unparsed`, `odd_values`: {"table.column": n}), or
  null for a snapshot whose manifest predates the count (not counted is not zero).
#}
{% macro manifest_count_sum(key) -%}
    case
        when json_exists(content, '$.{{ key }}')
            then cast(coalesce(
                list_sum(list_transform(json_extract(content, '$.{{ key }}.*'), lambda n: cast(n as bigint))), 0
            ) as bigint)
    end
{%- endmacro %}
