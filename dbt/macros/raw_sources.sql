{#
  The raw snapshots as the `raw` source's tables. DuckDB needs nothing here: each source's
  external_location (models/staging/_sources.yml) reads the verified files with read_parquet.
  Spark registers, once per build (on-run-start), an external table per source over the same
  Hive-partitioned folders: snapshot_date comes from the folder names, files are chosen by name
  (each partition folder holds several tables' files and the manifest), differing schemas of older
  snapshots are merged (DuckDB's union_by_name), and the manifests are read as whole-file text.
  `hubwatch build` passes the folders in the var raw_locations (source meta `raw_table` -> folder
  and file name); dropping an external table never touches its files.
#}
{% macro register_raw_sources() %}{{ return(adapter.dispatch('register_raw_sources')()) }}{% endmacro %}

{% macro duckdb__register_raw_sources() %}{{ return('') }}{% endmacro %}

{% macro spark__register_raw_sources() %}
    {%- if execute -%}
        {%- set locations = var('raw_locations', {}) -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for node in graph.sources.values() if node.source_name == 'raw' -%}
            {%- set location = locations.get(node.meta.get('raw_table')) -%}
            {%- if location is none -%}
                {{ exceptions.raise_compiler_error("no raw location for source " ~ node.name ~ ": run it through `hubwatch build --engine spark`") }}
            {%- endif -%}
            {%- set table = 'raw.' ~ node.name -%}
            {%- do run_query('drop table if exists ' ~ table) -%}
            {%- if location.file.endswith('.json') -%}
                {%- do run_query('create table ' ~ table ~ ' (content string) using text options (path '
                    ~ sql_string(location.path) ~ ', pathGlobFilter ' ~ sql_string(location.file)
                    ~ ", recursiveFileLookup 'true', wholetext 'true')") -%}
            {%- else -%}
                {%- do run_query('create table ' ~ table ~ ' using parquet options (path '
                    ~ sql_string(location.path) ~ ', pathGlobFilter ' ~ sql_string(location.file)
                    ~ ", mergeSchema 'true')") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
