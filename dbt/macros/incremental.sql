{#
  Incremental models reload every snapshot of a source from the first one they have not loaded
  yet (a new date, or a date retaken with --force, which changes its version) onwards: normally
  just the newest snapshot, so a daily build costs what one day adds. The date is computed
  before the model runs and written into its SQL as a literal, so DuckDB prunes the Hive
  partitions of raw/ instead of scanning history. A full refresh reloads from the beginning.
#}
{#
  The complete snapshots of a source an incremental model (re)loads in this run. load_from: the
  model's reload_from, when it has it already (each call of reload_from is a query of the table).
#}
{% macro snapshots_to_load(source_name, load_from=none) -%}
    select snapshot_date, snapshot_version
    from {{ ref('int_snapshots') }}
    where source = '{{ source_name }}' and snapshot_date >= {{ load_from or reload_from(source_name) }}
{%- endmacro %}

{#
  A model that keeps one row per item (images) records the snapshot its row was last seen in
  (date_column, version_column) instead: a snapshot counts as loaded when some row was last seen
  in it. One whose every item was seen again later is reloaded each run: correct, only slower.
#}
{% macro reload_from(source_name, platform=none, date_column='snapshot_date', version_column='snapshot_version') -%}
    {%- if not execute or not is_incremental() -%}
        {{ return("date '0001-01-01'") }}
    {%- endif -%}
    {%- set query -%}
        select coalesce(min(s.snapshot_date), date '9999-12-31')
        from {{ ref('int_snapshots') }} as s
        left join (
            select distinct {{ date_column }} as snapshot_date, {{ version_column }} as snapshot_version from {{ this }}
            {% if platform %}where platform = '{{ platform }}'{% endif %}
        ) as loaded
            on loaded.snapshot_date = s.snapshot_date and loaded.snapshot_version = s.snapshot_version
        where s.source = '{{ source_name }}' and loaded.snapshot_date is null
    {%- endset -%}
    {{ return("date '" ~ run_query(query).columns[0].values()[0] ~ "'") }}
{%- endmacro %}

{#
  After a per-image model (int_image_last_seen, images) has merged its recomputed rows, a row
  still pointing at a snapshot version that no longer exists belonged only to a snapshot that was
  retaken without it: it goes.
#}
{% macro delete_images_of_replaced_snapshots() %}{{ return(adapter.dispatch('delete_images_of_replaced_snapshots')()) }}{% endmacro %}

{# Spark rebuilds the per-image tables whole (incremental_by_item): nothing stale is left. #}
{% macro spark__delete_images_of_replaced_snapshots() %}{{ return('') }}{% endmacro %}

{% macro duckdb__delete_images_of_replaced_snapshots() -%}
    delete from {{ this }}
    where not exists (
        select 1 from {{ ref('int_snapshots') }} as snapshots
        where snapshots.source = 'civitai_images'
            and snapshots.snapshot_date = {{ this.identifier }}.last_seen
            and snapshots.snapshot_version = {{ this.identifier }}.last_seen_version
    )
{%- endmacro %}

{#
  The snapshot dates whose images int_image_counts_by_last_seen must recount, as SQL date
  literals: every one when the subculture rules changed, else those whose (date, version) group
  in images is new or holds a different number of images than was counted (a group only loses
  images once made, so an equal count means the same images).
#}
{% macro stale_image_groups(rules_hash) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        with now_in_images as (
            select last_seen, last_seen_version, count(*) as n_items from {{ ref('images') }} group by all
        ),
        counted as (
            select last_seen, last_seen_version, sum(n_items) as n_items
            from {{ this }} where kind = 'all' group by all
        ),
        rules_changed as (
            select count(*) > 0 as yes from {{ this }} where rules_hash <> '{{ rules_hash }}'
        )
        select distinct cast(now_in_images.last_seen as {{ type_text() }})
        from now_in_images
        left join counted using (last_seen, last_seen_version)
        where counted.n_items is distinct from now_in_images.n_items or (select yes from rules_changed)
        order by 1
    {%- endset -%}
    {%- set dates = [] -%}
    {%- for day in run_query(query).columns[0].values() -%}
        {%- do dates.append("date '" ~ day ~ "'") -%}
    {%- endfor -%}
    {{ return(dates) }}
{%- endmacro %}

{# A fingerprint of the subculture rules seed: counts made under other rules are recounted. #}
{% macro subculture_rules_hash() -%}
    {{ return(seed_fingerprint('rules_subculture_tags', "tag || '=' || subculture")) }}
{%- endmacro %}

{# A fingerprint of a rules seed's rows (row: a text expression of the columns that matter). #}
{% macro seed_fingerprint(seed, row) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set query -%}
        select {{ md5_of_sorted(row) }} from {{ ref(seed) }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{%- endmacro %}

{#
  After int_image_counts_by_last_seen has merged its recounts, counts of a snapshot group that no
  image belongs to any more (all its images were seen again later, or it was retaken) go.
#}
{% macro delete_counts_of_emptied_snapshots() %}{{ return(adapter.dispatch('delete_counts_of_emptied_snapshots')()) }}{% endmacro %}

{% macro spark__delete_counts_of_emptied_snapshots() %}{{ return('') }}{% endmacro %}

{% macro duckdb__delete_counts_of_emptied_snapshots() -%}
    delete from {{ this }}
    where not exists (
        select 1 from (select distinct last_seen, last_seen_version from {{ ref('images') }}) as groups
        where groups.last_seen = {{ this.identifier }}.last_seen
            and groups.last_seen_version = {{ this.identifier }}.last_seen_version
    )
{%- endmacro %}
