{#
  The raw snapshots as the `raw` source's tables, made once per build as dbt starts running
  (on-run-start), from where `hubwatch build` found the verified files. Both engines read the same
  Hive-partitioned folders: snapshot_date comes from the folder names, files are chosen by name
  (each partition folder holds several tables' files and the manifest), differing schemas of older
  snapshots are merged, and the manifests are read as whole-file text.

  DuckDB: a table macro raw.<table>() per source (the source's external_location), `select * from`
  the source's meta `read` with {files} the DuckDB list of its files (globs, by absolute path, so
  the warehouse opens from any folder). A macro, not a view: a view is bound when made (DuckDB lists
  and reads every file's schema: ~1 s for the raw tables at a year of snapshots), and the staging
  views that read it would bind it again; a macro is bound where it is used. `hubwatch build` hands
  the lists to dbt in the environment variable HUBWATCH_DBT_RAW (JSON: source meta `raw_table` ->
  list), which dbt reads only here, at run time: it is in no var and no parsed file, so the parsed
  project is the same for every home and dbt reuses a parse made in another (dbt hashes its --vars
  and the profile's connection values: dagster_project/warehouse.py, build_args). dbt run by hand,
  without it, reads through the macros the last build made.

  Spark: an external table per source (dropping one never touches its files). `hubwatch build
  --engine spark` passes the folders in the var raw_locations (source meta `raw_table` -> folder
  and file name).
#}
{% macro register_raw_sources() %}{{ return(adapter.dispatch('register_raw_sources')()) }}{% endmacro %}

{% macro duckdb__register_raw_sources() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set given = env_var('HUBWATCH_DBT_RAW', '') -%}
    {%- set sources = graph.sources.values() | selectattr('source_name', 'equalto', 'raw') | list -%}
    {%- set schema = api.Relation.create(database=sources[0].database, schema=sources[0].schema).without_identifier() -%}
    {%- if not given -%}
        {%- set found = run_query("select count(*) from duckdb_functions() where function_type = 'table_macro'"
            ~ " and database_name = " ~ sql_string(schema.database) ~ " and schema_name = " ~ sql_string(schema.schema)) -%}
        {%- if found.columns[0].values()[0] < sources | length -%}
            {{ exceptions.raise_compiler_error("raw/ is not readable in this warehouse yet: run the first build through `hubwatch build`") }}
        {%- endif -%}
        {{ return('') }}
    {%- endif -%}
    {%- set files = fromjson(given) -%}
    {%- set statements = ['create schema if not exists ' ~ schema] -%}
    {%- for node in sources -%}
        {%- set listed = files.get(node.meta.get('raw_table')) -%}
        {%- if listed is none -%}
            {{ exceptions.raise_compiler_error("no raw files for source " ~ node.name ~ ": run it through `hubwatch build`") }}
        {%- endif -%}
        {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier) -%}
        {%- do statements.append('create or replace macro ' ~ relation ~ '() as table select * from '
            ~ node.meta['read'] | replace('{files}', listed)) -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}

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
