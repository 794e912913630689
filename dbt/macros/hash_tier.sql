{#
  The file-hash tier (rule set v2): which files count, and which never make a match. See the
  `hash_tier_rules` docs block (models/docs.md) for the rule in words.
#}

{# At most this many models of one platform may carry a file in one snapshot for it to count. #}
{% macro hash_tier_max_models() %}3{% endmacro %}

{# The file's extension, lower-case with its dot ('' when it has none). #}
{% macro file_extension(file_name) -%}
    coalesce(lower(regexp_extract({{ file_name }}, {{ regex_literal('(\\.[^./]+)$') }}, 1)), '')
{%- endmacro %}

{#
  Files (platform, snapshot_date, model_id, sha256, is_weight) -> the SHA-256 that are shared in
  that snapshot: shipped by some model as a non-weight file (a VAE, a config...), or carried by
  more than hash_tier_max_models() models of the platform. A shared file never makes a match.
#}
{% macro shared_files(files) -%}
    select {{ files }}.platform, {{ files }}.snapshot_date, {{ files }}.sha256
    from {{ files }}
    group by {{ files }}.platform, {{ files }}.snapshot_date, {{ files }}.sha256
    having count(distinct {{ files }}.model_id) > {{ hash_tier_max_models() }} or bool_or(not {{ files }}.is_weight)
{%- endmacro %}
