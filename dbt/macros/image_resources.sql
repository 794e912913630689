{#
  Image resources (rules_version v2, new in #21). A reference resolves:
  - by version id (modelVersionIds, meta.civitaiResources) when a complete models snapshot
    listed that version, else `unknown_version` (a hidden, deleted or never-crawled model);
  - by hash (meta.resources, meta.hashes, "Model hash") when the hash is a SHA-256 or an AutoV2
    (its first 10 hex) of exactly one listed version's weight file; a hash several versions carry
    is `ambiguous_hash`, one no listed weight file has is `unknown_hash`, and an AutoV1 or other
    hash (hubwatch keeps no such hash of files) is `unindexed_hash`;
  - a reference with neither (a name alone) is `no_identifier`.
#}
{% macro image_resource_resolution(ref, by_id, by_hash) -%}
    case
        when {{ ref }}.model_version_id is not null then
            case when {{ by_id }}.version_id is not null then 'resolved' else 'unknown_version' end
        when {{ ref }}.hash is null then 'no_identifier'
        when {{ ref }}.hash_kind not in ('autov2', 'sha256') then 'unindexed_hash'
        when {{ by_hash }}.n_versions > 1 then 'ambiguous_hash'
        when {{ by_hash }}.version_id is not null then 'resolved'
        else 'unknown_hash'
    end
{%- endmacro %}
