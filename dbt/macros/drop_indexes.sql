{#
  dbt-duckdb lists a table's indexes (a query of duckdb_indexes()) before every rename and drop a
  build makes, after every table model and incremental run: DuckDB renames no table that has one.
  A hubwatch table holds an index only when its model declares one, with dbt's `indexes` config
  or as its grain index (`meta: {grain_index: [...]}`, grain_index.sql); any other model's table
  has none to drop, and the query (~4 ms of dbt's Python besides DuckDB) is skipped. An index made
  by hand on such a table makes its next rebuild fail on the rename, loudly, and not lose it.
  The body is dbt-duckdb's (macros/adapters.sql, drop_indexes_on_relation).
#}
{% macro drop_indexes_on_relation(relation) -%}
  {%- if config.get('indexes') or (config.get('meta') or {}).get('grain_index') -%}
  {% call statement('get_indexes_on_relation', fetch_result=True, auto_begin=False) %}
    SELECT index_name
    FROM duckdb_indexes()
    WHERE database_name = '{{ relation.database }}'
      AND schema_name = '{{ relation.schema }}'
      AND table_name = '{{ relation.identifier }}'
  {% endcall %}
  {% set results = load_result('get_indexes_on_relation').table %}
  {% for row in results %}
    {% set index_name = row[0] %}
    {% call statement('drop_index_' + loop.index|string, auto_begin=false) %}
      DROP INDEX "{{ relation.database }}"."{{ relation.schema }}"."{{ index_name }}"
    {% endcall %}
  {% endfor %}
  {%- endif -%}
{%- endmacro %}
