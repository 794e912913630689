{#
  A table kept per snapshot whose grain holds the snapshot (model_snapshots: platform, model_id,
  snapshot_date) holds that grain as a UNIQUE index in DuckDB: a row repeating a key is refused
  when it is written, by a build (the model fails, its transaction is rolled back, and the
  snapshot stays unloaded, so the next build meets the same refusal) or by anything else. Its
  grain test then need not regroup every snapshot of history at each build (see
  the `grain_index` of its `checks` test). Spark has no such index: there the test groups the whole
  table.
#}

{% macro grain_index_name() %}{{ return(this.identifier ~ '_grain') }}{% endmacro %}

{#
  A post-hook: the index on the model's `meta: {grain_index: [columns]}` (declared there so that
  drop_indexes.sql knows which tables hold one), on a table just created (the first build, a full
  refresh); a no-op on one that has it.
#}
{% macro ensure_grain_index() %}{{ return(adapter.dispatch('ensure_grain_index')()) }}{% endmacro %}

{% macro default__ensure_grain_index() %}{{ return('') }}{% endmacro %}

{% macro duckdb__ensure_grain_index() -%}
    create unique index if not exists {{ grain_index_name() }} on {{ this }} ({{ config.get('meta')['grain_index'] | join(', ') }})
{%- endmacro %}

{#
  A pre-hook, committed on its own before the model's transaction: before a full refresh replaces
  the table, its index goes (DuckDB renames no table that has one; the new table gets an index of
  the same name from the post-hook). Inside the model's transaction, the dropped index stayed
  visible to another thread's catalogue read (dbt-duckdb lists duckdb_indexes() after each model)
  whose table was then renamed and dropped: "Table with name model_snapshots__dbt_backup does not
  exist". A build that fails after it leaves the table without the index until model_snapshots
  is built again; its grain test then groups the whole table.
#}
{% macro drop_grain_index_before_rebuild() %}{{ return(adapter.dispatch('drop_grain_index_before_rebuild')()) }}{% endmacro %}

{% macro default__drop_grain_index_before_rebuild() %}{{ return('') }}{% endmacro %}

{% macro duckdb__drop_grain_index_before_rebuild() -%}
    {%- if execute and should_full_refresh() and load_cached_relation(this) is not none -%}
        drop index if exists {{ this.database }}.{{ this.schema }}.{{ grain_index_name() }}
    {%- endif -%}
{%- endmacro %}

{#
  Whether DuckDB holds the model's grain: a unique index named `name` on exactly these columns of
  the model's table (read from the catalogue when the test is compiled, just before it runs).
#}
{% macro grain_index_holds(model, name, columns) %}{{ return(adapter.dispatch('grain_index_holds')(model, name, columns)) }}{% endmacro %}

{% macro default__grain_index_holds(model, name, columns) %}{{ return(false) }}{% endmacro %}

{% macro duckdb__grain_index_holds(model, name, columns) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select expressions from duckdb_indexes()
        where database_name = '{{ model.database }}' and schema_name = '{{ model.schema }}'
            and table_name = '{{ model.identifier }}' and index_name = '{{ name }}' and is_unique
    {%- endset -%}
    {%- set found = run_query(query).columns[0].values() -%}
    {{ return(found | length == 1 and (found[0] | string) == ('[' ~ columns | join(', ') ~ ']')) }}
{%- endmacro %}
