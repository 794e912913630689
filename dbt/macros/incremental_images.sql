{#
  The per-image tables built on `images` (int_images_made_with, int_images_prompted) and the small
  image counts study_comparisons reads are updated like `images` itself (see incremental.sql): a
  daily build rewrites the images whose latest sighting changed, not all of them. Each such table
  keeps `images`' last_seen and last_seen_version, so that reload_from finds the snapshots it has
  not loaded yet and delete_images_of_replaced_snapshots drops what a retake left behind.
#}

{# Whether this table holds rows last seen in a snapshot being (re)loaded: a late or retaken one. #}
{% macro holds_images_seen_since(load_from) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select count(*) from {{ this }} where last_seen >= {{ load_from }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{%- endmacro %}

{#
  A condition on image_id (text) naming the images whose latest sighting changed since this table
  was written: those `images` now has last seen in a snapshot being (re)loaded, and those this
  table had last seen in one (a retake may have moved them to an earlier sighting). The second
  part is emitted only when there are such rows, so that an ordinary day filters on last_seen
  alone (which the engine prunes by row group) instead of semi-joining every image.
#}
{% macro image_sighting_changed(load_from, retaken, column='image_id', last_seen_column='last_seen') -%}
    ({{ last_seen_column }} >= {{ load_from }}
    {%- if retaken %}
        or {{ column }} in (select image_id from {{ this }} where last_seen >= {{ load_from }})
    {%- endif %})
{%- endmacro %}

{#
  Whether any row of this table was written under other rules than `rules_hash` (a change of the
  rules the table applies to every image makes the build rewrite all of them).
#}
{% macro rules_changed_since_written(rules_hash) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select count(*) from {{ this }} where rules_hash <> '{{ rules_hash }}'
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{%- endmacro %}

{#
  The key a resource reference of an image is resolved by (see image_resource_resolution): its
  version id, or, without one, a SHA-256 or AutoV2 hash; null for a reference that resolves by
  nothing hubwatch indexes (a name, an AutoV1 hash), whose resolution never changes.
#}
{% macro resource_ref_key(version_id, hash_kind, hash) -%}
    case
        when {{ version_id }} is not null then concat('version:', cast({{ version_id }} as {{ type_text() }}))
        when {{ hash }} is not null and {{ hash_kind }} in ('autov2', 'sha256') then concat({{ hash_kind }}, ':', {{ hash }})
    end
{%- endmacro %}

{#
  Whether a reference key's outcome (int_image_resource_kinds) changed after this table last
  wrote rows (max(loaded_at)): then the images naming such a key are recomputed. Compared with
  when this table last wrote, not with this build, so that a change a failed build recorded but
  did not apply is applied by the next one.
#}
{% macro resource_kinds_changed_since_written() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select count(*) from {{ ref('int_image_resource_kinds') }}
        where changed_at > (select coalesce(max(loaded_at), timestamp '0001-01-01 00:00:00') from {{ this }})
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{%- endmacro %}

{#
  The snapshot dates whose images a table of image counts kept per last-seen snapshot
  (int_image_counts_by_created_day, int_image_made_with_counts, int_image_prompt_counts) must
  recount, as SQL date literals:
  - those whose (date, version) group holds another number of images than it counted (`total`: its
    images counted in a group, an aggregate over its rows), read from int_image_counts_by_last_seen's
    totals (which hold every image once, by its last sighting) instead of grouping every image
    again: a new or retaken snapshot, one that lost images to a later sighting;
  - and, for each per-image table in `rewritten_in`, the groups holding its rows written after this
    table last counted (its newest loaded_at): images whose row changed though their group's count
    may not have (rewritten in place, when a model's flags or the prompt term rules changed; moved
    back to an earlier snapshot by a retake, which may lose as many to the retaken one). Their
    loaded_at is pruned by row group (rows are appended in build order), so this reads only what
    the latest builds wrote.
#}
{% macro image_groups_to_recount(total='sum(n_items)', rewritten_in=[]) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        with now_in_images as (
            select last_seen, last_seen_version, sum(n_items) as n_items
            from {{ ref('int_image_counts_by_last_seen') }}
            where kind = 'all' and platform = 'civitai'
            group by last_seen, last_seen_version
        ),
        counted as (
            select last_seen, last_seen_version, {{ total }} as n_items
            from {{ this }} group by last_seen, last_seen_version
        )
        select distinct cast(now_in_images.last_seen as {{ type_text() }}) as last_seen
        from now_in_images
        left join counted
            on counted.last_seen = now_in_images.last_seen
            and counted.last_seen_version = now_in_images.last_seen_version
        where counted.n_items is distinct from now_in_images.n_items
        {%- if rewritten_in %}
        union
        {{ groups_rewritten_since_counted(rewritten_in) }}
        {%- endif %}
        order by 1
    {%- endset -%}
    {{ return(date_literals(query)) }}
{%- endmacro %}

{#
  The last_seen dates (as text, each once) of the rows of `tables` (per-image tables with loaded_at)
  written after this table of counts last counted (its newest loaded_at; every row when it holds
  none). Once per row written, a daily build at 44M images fetched 1.3M dates into dbt: 10-15 s.
#}
{% macro groups_rewritten_since_counted(tables) -%}
    {%- for table in tables %}
    {{ "union" if not loop.first }}
    select distinct cast(last_seen as {{ type_text() }}) as last_seen from {{ table }}
    where loaded_at > (select coalesce(max(loaded_at), timestamp '0001-01-01 00:00:00') from {{ this }})
    {%- endfor %}
{%- endmacro %}

{# The same dates as SQL date literals, for a table of counts whose other stale groups are found otherwise. #}
{% macro image_groups_rewritten_since_counted(tables) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(date_literals(groups_rewritten_since_counted(tables))) }}
{%- endmacro %}

{# The dates a query's first column gives, as SQL date literals. #}
{% macro date_literals(query) -%}
    {%- set dates = [] -%}
    {%- for day in run_query(query).columns[0].values() -%}
        {%- do dates.append("date '" ~ day ~ "'") -%}
    {%- endfor -%}
    {{ return(dates) }}
{%- endmacro %}

{#
  After such a table has merged its recounts, counts of a snapshot group no image belongs to any
  more (its images were all seen again later, or it was retaken) go.
#}
{% macro delete_counts_of_emptied_image_groups() %}{{ return(adapter.dispatch('delete_counts_of_emptied_image_groups')()) }}{% endmacro %}

{# Spark rebuilds the table whole (incremental_by_item): nothing stale is left. #}
{% macro spark__delete_counts_of_emptied_image_groups() %}{{ return('') }}{% endmacro %}

{% macro duckdb__delete_counts_of_emptied_image_groups() -%}
    delete from {{ this }}
    where not exists (
        select 1 from {{ ref('int_image_counts_by_last_seen') }} as groups
        where groups.kind = 'all'
            and groups.last_seen = {{ this.identifier }}.last_seen
            and groups.last_seen_version = {{ this.identifier }}.last_seen_version
    )
{%- endmacro %}

{#
  Two per-image tables hold no row for some images (image_resources: an image that names nothing;
  int_image_prompt_families: one whose prompt holds no term family), so they cannot tell from their
  own rows which snapshots they have loaded (reload_from would reload every snapshot with no such
  image at every build). They rewrite instead the images whose latest sighting
  int_image_last_seen (re)decided after the table last wrote rows (its newest loaded_at): the new
  snapshots' images, and those a retake moved back to an earlier sighting. A build that wrote no
  row leaves no mark: the next one looks again from the last that did (correct, only slower).
#}

{# When this table last wrote rows, as a timestamp literal; none on a full build or while it holds no row. #}
{% macro last_written_at() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set written = run_query("select max(loaded_at) from " ~ this).columns[0].values()[0] -%}
    {{ return(none if written is none else "timestamp '" ~ written ~ "'") }}
{%- endmacro %}

{# The images (image_id as text) whose latest sighting was decided after written_at (every one when none). #}
{% macro images_sighted_since(written_at) -%}
    select cast(image_id as {{ type_text() }}) as image_id, last_seen, last_seen_version
    from {{ ref('int_image_last_seen') }}
    {%- if written_at %}
    where loaded_at > {{ written_at }}
    {%- endif %}
{%- endmacro %}

{#
  The earliest latest sighting among those images, as a date literal: where the build reads the
  raw references or prompts from (the engine prunes raw/'s snapshot partitions by it).
#}
{% macro first_sighting_since(written_at) -%}
    {%- if not execute or not written_at -%}
        {{ return("date '0001-01-01'") }}
    {%- endif -%}
    {%- set query -%}
        select coalesce(min(last_seen), date '9999-12-31') from {{ ref('int_image_last_seen') }} where loaded_at > {{ written_at }}
    {%- endset -%}
    {{ return("date '" ~ run_query(query).columns[0].values()[0] ~ "'") }}
{%- endmacro %}

{#
  A pre-hook: before such a table merges its rewritten images, their old rows go. An image seen
  again may now name nothing (or no family): it has no new row, and the merge by image_id alone
  would leave its old ones. written_at: the same as the model's (the table has not changed since
  the model was compiled).
#}
{% macro delete_rows_of_images_sighted_since(written_at) %}{{ return(adapter.dispatch('delete_rows_of_images_sighted_since')(written_at)) }}{% endmacro %}

{# Spark rebuilds these tables whole (incremental_by_item): nothing is left to delete. #}
{% macro spark__delete_rows_of_images_sighted_since(written_at) %}{{ return('') }}{% endmacro %}

{% macro duckdb__delete_rows_of_images_sighted_since(written_at) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    delete from {{ this }}
    {%- if written_at %}
    where image_id in (select image_id from ({{ images_sighted_since(written_at) }}) as sighted)
    {%- endif %}
{%- endmacro %}

{# int_image_prompt_families' last_written_at: none (rewrite every image) when the prompt term rules changed since. #}
{% macro prompt_families_written_at() -%}
    {{ return(none if rules_changed_since_written(prompt_rules_hash()) else last_written_at()) }}
{%- endmacro %}

{# A fingerprint of the prompt term rules (prompt_family_patterns): rows written under others are rewritten. #}
{% macro prompt_rules_hash() -%}
    {{ return(local_md5(tojson(prompt_family_patterns()))) }}
{%- endmacro %}

{#
  The images last seen in each snapshot (date), as int_image_last_seen decides them (every image
  once, by its last sighting): what a per-image table's rows per last_seen must number (the
  `rows_per_group` of its checks). last_seen: that model's ref, given by the caller so that dbt
  records the dependency (an upstream model of every per-image table, so the check runs whenever
  the table is built, and after the sightings it is checked against).
#}
{% macro images_per_last_seen_snapshot(last_seen) -%}
    select last_seen, count(*) as n_rows from {{ last_seen }} group by last_seen
{%- endmacro %}
