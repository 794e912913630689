{#
  dbt's descriptions as comments on a table and its columns (persist_docs, the marts), in one
  statement. dbt's default and dbt-duckdb's each read the table's columns (so that a documented
  column the table lacks is skipped with a warning), two DESCRIBE queries, and comment on the
  table in a statement of its own: four queries per mart, ~4 ms of dbt's Python each besides
  DuckDB. A model whose contract is enforced has exactly its declared columns (dbt has just
  checked the SQL's columns against them and created the table from them), so its columns are
  not read again; any other model's are read once.
#}
{% macro duckdb__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- set statements = [] -%}
    {%- if for_relation and config.persist_relation_docs() and model.description -%}
        {%- do statements.append(alter_relation_comment(relation, model.description)) -%}
    {%- endif -%}
    {%- if for_columns and config.persist_column_docs() and model.columns -%}
        {%- set columns = model.columns -%}
        {%- if not config.get('contract').enforced -%}
            {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
            {%- set columns = validate_doc_columns(relation, model.columns, existing) -%}
        {%- endif -%}
        {%- for name, column in columns.items() -%}
            {%- set quoted = adapter.quote(name) if column['quote'] else name -%}
            {%- do statements.append('comment on column ' ~ relation ~ '.' ~ quoted ~ ' is ' ~ duckdb_escape_comment(column['description']) ~ ';') -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if statements -%}
        {%- do run_query(statements | join('\n')) -%}
    {%- endif -%}
{%- endmacro %}
