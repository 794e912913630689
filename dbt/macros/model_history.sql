{#
  After int_model_history has merged its recomputed rows, a row still pointing at a model snapshot
  version that no longer exists belonged only to a snapshot that was retaken without that model:
  it goes (as delete_images_of_replaced_snapshots does for the per-image tables).
#}
{% macro delete_models_of_replaced_snapshots() %}{{ return(adapter.dispatch('delete_models_of_replaced_snapshots')()) }}{% endmacro %}

{# Spark rebuilds int_model_history whole (incremental_by_item): nothing stale is left. #}
{% macro spark__delete_models_of_replaced_snapshots() %}{{ return('') }}{% endmacro %}

{% macro duckdb__delete_models_of_replaced_snapshots() -%}
    delete from {{ this }}
    where not exists (
        select 1 from {{ ref('int_snapshots') }} as snapshots
        where snapshots.entity = 'model'
            and snapshots.platform = {{ this.identifier }}.platform
            and snapshots.snapshot_date = {{ this.identifier }}.last_seen
            and snapshots.snapshot_version = {{ this.identifier }}.last_seen_version
    )
{%- endmacro %}
