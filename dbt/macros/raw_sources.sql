{#
  The raw snapshots as the `raw` source's tables, made once per build as dbt starts running
  (on-run-start), from where `hubwatch build` found the verified files. Both engines read the same
  Hive-partitioned folders: snapshot_date comes from the folder names, files are chosen by name
  (each partition folder holds several tables' files and the manifest), differing schemas of older
  snapshots are merged, and the manifests are read as whole-file text.

  DuckDB: a table macro raw.<table>() per source (the source's external_location), `select * from`
  the source's meta `read` with {files} the DuckDB list of its files (globs, by absolute path, so
  the warehouse opens from any folder); the stored rows (meta `copied`) are tables instead, to
  which each build adds the files it has not copied (copy_stored_rows, below). A macro, not a
  view: a view is bound when made (DuckDB lists and reads every file's schema: ~1 s for the raw
  tables at a year of snapshots), and the staging views that read it would bind it again; a macro
  is bound where it is used. `hubwatch build` hands
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
        {%- set found = run_query("select (select count(*) from duckdb_functions() where function_type = 'table_macro'"
            ~ " and database_name = " ~ sql_string(schema.database) ~ " and schema_name = " ~ sql_string(schema.schema) ~ ")"
            ~ " + (select count(*) from duckdb_tables() where database_name = " ~ sql_string(schema.database)
            ~ " and schema_name = " ~ sql_string(schema.schema) ~ ")") -%}
        {%- if found.columns[0].values()[0] < sources | length -%}
            {{ exceptions.raise_compiler_error("raw/ is not readable in this warehouse yet: run the first build through `hubwatch build`") }}
        {%- endif -%}
        {{ return('') }}
    {%- endif -%}
    {%- set files = fromjson(given) -%}
    {%- set statements = ['create schema if not exists ' ~ schema] -%}
    {%- set copied = [] -%}
    {%- for node in sources -%}
        {%- set listed = files.get(node.meta.get('raw_table')) -%}
        {%- if listed is none -%}
            {{ exceptions.raise_compiler_error("no raw files for source " ~ node.name ~ ": run it through `hubwatch build`") }}
        {%- endif -%}
        {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier) -%}
        {%- if node.meta.get('copied') -%}
            {%- do copied.append((node, relation, listed)) -%}
        {%- else -%}
            {%- do statements.append('create or replace macro ' ~ relation ~ '() as table select * from ' ~ raw_read(node, listed)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do statements.extend(copy_stored_rows(schema, copied)) -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}

{# How DuckDB reads a raw source's files: its meta `read` over `files` (a DuckDB list, as SQL). #}
{% macro raw_read(node, files) %}{{ return(node.meta['read'] | replace('{files}', files)) }}{% endmacro %}

{#
  The stored rows (the sources whose meta says `copied`:
  raw/<source>/_packs/<table>.<rows_file>.parquet, ingest/rowstore.py) as tables in the warehouse,
  to which each build adds only the files it has not copied yet. Why: every crawled day stores a new file per table, and a day's listing joined to the
  files themselves opened and read every file stored since the first day, in each model that read
  the table (at a year of daily snapshots ~0.1-0.3 s a read, growing with the days). A stored file
  is written once and never changed, so a file copied once never needs reading again: its name
  holds its rows_file, and the files whose rows_file the table lacks are the new ones (listed by
  name only). A table is made whole from every file when it is missing, on a full refresh, or when
  new files bring a column it lacks or a wider type (a newer normaliser: an insert would drop or
  cast it). Like the macros it replaces, it holds every stored file in raw/, one no listing names
  included (it joins no row). Returns the statements.
#}
{% macro copy_stored_rows(schema, copied) %}
    {%- if not copied -%}{{ return([]) }}{%- endif -%}
    {%- set existing = run_query("select table_name from duckdb_tables() where database_name = " ~ sql_string(schema.database)
        ~ " and schema_name = " ~ sql_string(schema.schema)).columns[0].values() -%}
    {%- set whole, listings = [], [] -%}
    {%- for node, relation, listed in copied -%}
        {%- if flags.FULL_REFRESH or node.identifier not in existing -%}
            {%- do whole.append(node.identifier) -%}
        {%- else -%}
            {%- do listings.append('select ' ~ sql_string(node.identifier) ~ ' as source, filename as file from read_blob(' ~ listed ~ ')'
                ~ " where regexp_extract(parse_filename(filename), '[.]([^.]+)[.]parquet$', 1) not in (select rows_file from " ~ relation ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set new_files = {} -%}
    {%- if listings -%}
        {%- for row in run_query(listings | join(' union all ') ~ ' order by all').rows -%}
            {%- do new_files.setdefault(row[0], []).append(row[1]) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for node, relation, listed in copied -%}
        {%- set named = new_files.get(node.identifier, []) -%}
        {%- set quoted = [] -%}
        {%- for file in named -%}{%- do quoted.append(sql_string(file)) -%}{%- endfor -%}
        {%- set read_named = raw_read(node, '[' ~ quoted | join(', ') ~ ']') -%}
        {%- if named and node.identifier not in whole -%}
            {#- the table's columns as they would be with the new files' (by name, each the wider type): any
                column added or widened means an insert would drop or cast what the files hold -#}
            {%- set unlike = run_query('select count(*) from (describe select * from ((select * from ' ~ relation ~ ' limit 0)'
                ~ ' union all by name (select * from ' ~ read_named ~ ' limit 0))) as together'
                ~ ' where not exists (select 1 from duckdb_columns() as kept where kept.database_name = ' ~ sql_string(schema.database)
                ~ ' and kept.schema_name = ' ~ sql_string(schema.schema) ~ ' and kept.table_name = ' ~ sql_string(node.identifier)
                ~ ' and kept.column_name = together.column_name and kept.data_type = together.column_type)').columns[0].values()[0] -%}
            {%- if unlike -%}{%- do whole.append(node.identifier) -%}{%- endif -%}
        {%- endif -%}
        {%- if node.identifier in whole -%}
            {#- a warehouse built before wave 17 keeps its table macro of that name beside the table: views
                made then (`raw.<table>_rows()`) read on until the build remakes them -#}
            {%- do statements.append('create or replace table ' ~ relation ~ ' as select * from ' ~ raw_read(node, listed)) -%}
        {%- elif named -%}
            {%- do statements.append('insert into ' ~ relation ~ ' by name select * from ' ~ read_named) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements) }}
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
