{#
  Contracts (marts' declared column names and types) are enforced by dbt on DuckDB only. Spark's
  types have other names (string, array<string>, timestamp), so dbt-spark cannot check them
  against the declared ones: on Spark the check is skipped, and `hubwatch build --engine spark`
  checks the public tables instead when it hands them to DuckDB (every declared column there,
  none other, each cast to its declared type: dagster_project/spark_export.py).
#}
{% macro spark__get_assert_columns_equivalent(sql) %}{{ return('') }}{% endmacro %}

{#
  On DuckDB, a mart's contract is checked with one query where dbt's assert_columns_equivalent
  makes two (a DESCRIBE of the model's SQL, another of the declared columns cast from null, to
  name their types as DuckDB does): the two DESCRIBEs in one union, ~4 ms of dbt's Python less
  per mart. The comparison is dbt's own (dbt-adapters, columns_spec_ddl.sql): the same columns,
  by name, each of the same type, else dbt's contract error with both lists.
#}
{% macro duckdb__get_assert_columns_equivalent(sql) -%}
    {%- set declared = model['columns'] -%}
    {%- if not declared -%}
        {{ exceptions.raise_contract_error([], []) }}
    {%- endif -%}
    {%- call statement('contract_columns', fetch_result=True, auto_begin=False) -%}
        select 'sql' as side, column_name, column_type
        from (describe ({{ get_empty_subquery_sql(sql, config.get('sql_header', none)) }}))
        union all
        select 'yaml' as side, column_name, column_type
        from (describe ({{ get_empty_subquery_sql(get_empty_schema_sql(declared)) }}))
    {%- endcall -%}
    {%- set found = {'sql': [], 'yaml': []} -%}
    {%- for row in load_result('contract_columns').table -%}
        {%- do found[row[0]].extend(api.Column(column=row[1], dtype=row[2]).flatten()) -%}
    {%- endfor -%}
    {%- set sql_columns = format_columns(found['sql']) -%}
    {%- set yaml_columns = format_columns(found['yaml']) -%}
    {%- if sql_columns | length != yaml_columns | length -%}
        {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
    {%- endif -%}
    {%- for sql_col in sql_columns -%}
        {%- set yaml_col = yaml_columns | selectattr('name', 'equalto', sql_col['name']) | list -%}
        {%- if not yaml_col or sql_col['formatted'] != yaml_col[0]['formatted'] -%}
            {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
