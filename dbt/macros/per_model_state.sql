{#
  Tables kept per item of a model snapshot (a model's counters, a version, a file's hash) are
  updated from the new snapshots alone. Like int_model_history, such a table records the last
  snapshot that showed each item (last_seen, last_seen_version) and the newest snapshot version
  the build that wrote the row had (loaded_through): a snapshot is new to the table when it is
  later than every sighting it holds or was finished after that (a retaken or late-imported
  snapshot of any date is always finished after the build before it).
#}

{#
  The earliest model snapshot of a platform this incremental build must (re)load, as a date literal.
  date_column: the table's column naming the snapshot a row comes from (a per-snapshot table's own
  snapshot_date): a snapshot that gave the table no row (no file with a hash, say) counts as loaded
  by the build that had it, where reload_from would load it again at every build.
#}
{% macro model_snapshots_to_load_from(platform, date_column='last_seen') -%}
    {%- if not execute or not is_incremental() -%}
        {{ return("date '0001-01-01'") }}
    {%- endif -%}
    {%- set query -%}
        select coalesce(min(s.snapshot_date), date '9999-12-31')
        from {{ ref('int_snapshots') }} as s
        where s.platform = '{{ platform }}' and s.entity = 'model'
            and (
                s.snapshot_date > (
                    select coalesce(max({{ date_column }}), date '0001-01-01') from {{ this }} where platform = '{{ platform }}'
                )
                or cast(s.snapshot_version as {{ type_instant() }}) > (
                    select max(loaded_through) from {{ this }} where platform = '{{ platform }}'
                )
            )
    {%- endset -%}
    {{ return("date '" ~ run_query(query).columns[0].values()[0] ~ "'") }}
{%- endmacro %}

{#
  A pre-hook of a table kept per snapshot and loaded by model_snapshots_to_load_from: the rows of
  every snapshot the build reloads go first, so that a retake giving the table no row for its day (a
  Hugging Face list retaken without file hashes) keeps none of the first take's (delete+insert
  deletes only the days it writes). The delete is pruned by date: on a daily build it finds nothing.
  Spark's insert_overwrite keeps the partitions a run does not write: there such a day's old rows
  stay until a full refresh.
#}
{% macro delete_snapshots_to_reload(platforms, date_column='snapshot_date') %}{{ return(adapter.dispatch('delete_snapshots_to_reload')(platforms, date_column)) }}{% endmacro %}
{% macro spark__delete_snapshots_to_reload(platforms, date_column) %}{{ return('') }}{% endmacro %}
{% macro duckdb__delete_snapshots_to_reload(platforms, date_column) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    delete from {{ this }}
    where {% for platform in platforms %}{{ 'or ' if not loop.first }}(platform = '{{ platform }}' and {{ date_column }} >= {{ model_snapshots_to_load_from(platform, date_column) }}){% endfor %}
{%- endmacro %}

{#
  Whether the snapshots to load all come after every sighting the table holds (an ordinary day):
  then each item's row is its old row merged with the new sightings. Otherwise (a snapshot
  retaken, or imported late, before some sighting already loaded) the platform's rows are all
  recomputed from every sighting: correct whatever changed, paid only on such a build; a row no
  sighting supports any more is removed by delete_models_of_replaced_snapshots. date_column: the
  table's column naming the snapshot a row comes from (a per-snapshot table's own snapshot_date).
#}
{% macro appends_to_loaded(platform, load_from, date_column='last_seen') -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set query -%}
        select count(*) from {{ this }} where platform = '{{ platform }}' and {{ date_column }} >= {{ load_from }}
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] == 0) }}
{%- endmacro %}

{# The rows a model of this kind must (re)compute from, given the two macros above. #}
{% macro model_sightings_filter(load_from, appending, date_column='snapshot_date') -%}
    {{- date_column ~ ' >= ' ~ load_from if appending else 'true' -}}
{%- endmacro %}

{#
  The last complete model snapshot of a platform before `since` (a date literal), as a date
  literal ('0001-01-01' when there is none, or on a full build): where a table kept per snapshot
  finds the state each model had before the snapshots it computes, one snapshot pruned by date
  instead of every earlier one.
#}
{% macro model_snapshot_before(platform, since) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return("date '0001-01-01'") }}
    {%- endif -%}
    {%- set query -%}
        select coalesce(max(snapshot_date), date '0001-01-01') from {{ ref('int_snapshots') }}
        where entity = 'model' and platform = '{{ platform }}' and snapshot_date < {{ since }}
    {%- endset -%}
    {{ return("date '" ~ run_query(query).columns[0].values()[0] ~ "'") }}
{%- endmacro %}


{#
  The earliest snapshot that computing a platform's model snapshots from `since` on reads, as a
  date literal: the previous snapshot of each one's chain (same source and scope), or the snapshot
  itself when it has none ('9999-12-31' when none is from `since` on). A literal, so the scan of
  model_snapshots is pruned by date; compared with a subquery's value, every row was read.
#}
{% macro model_chain_start(platform, since) -%}
    {%- if not execute or since == "date '0001-01-01'" -%}  {#- every snapshot: no query needed #}
        {{ return(since) }}
    {%- endif -%}
    {%- set query -%}
        select coalesce(min(coalesce(prev_snapshot_date, snapshot_date)), date '9999-12-31') from {{ ref('int_snapshots') }}
        where entity = 'model' and platform = '{{ platform }}' and snapshot_date >= {{ since }}
    {%- endset -%}
    {{ return("date '" ~ run_query(query).columns[0].values()[0] ~ "'") }}
{%- endmacro %}


{#- The version of each platform's model snapshot (a retake's is the newer): the per-snapshot
    figures carry it, so a reader sees which take of a day they count. -#}
{% macro model_snapshot_versions() %}
    select platform, snapshot_date, max(snapshot_version) as snapshot_version
    from {{ ref('int_snapshots') }}
    where entity = 'model'
    group by platform, snapshot_date
{% endmacro %}
