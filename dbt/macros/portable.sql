{#
  The engine library: every construct whose SQL differs between DuckDB (dbt-duckdb, the default
  engine) and Apache Spark (dbt-spark, `hubwatch build --engine spark`), each written once as a
  macro with one implementation per engine (`adapter.dispatch`). Models call these macros and
  contain no engine test of their own (tests/test_portability.py greps for one and renders every
  model for Spark through sqlglot). To port a model: replace each construct below by its macro;
  constructs both engines share need none (see the `portable_sql` docs block in models/docs.md).

  Lists are 1-based in both macros' arguments; lambdas are written as (variable, expression).
#}

{# A list literal of SQL expressions: [a, b] / array(a, b). #}
{% macro list_of(items) %}{{ return(adapter.dispatch('list_of')(items)) }}{% endmacro %}
{% macro duckdb__list_of(items) %}[{{ items | join(', ') }}]{% endmacro %}
{% macro spark__list_of(items) %}array({{ items | join(', ') }}){% endmacro %}

{# The empty list, typed by what it is coalesced with: [] / array(). #}
{% macro empty_list() %}{{ return(adapter.dispatch('empty_list')()) }}{% endmacro %}
{% macro duckdb__empty_list() %}[]{% endmacro %}
{% macro spark__empty_list() %}array(){% endmacro %}

{# The list's first element, or null when it is empty (DuckDB lists are 1-based, Spark's [] 0-based). #}
{% macro list_first(list) %}{{ return(adapter.dispatch('list_first')(list)) }}{% endmacro %}
{% macro duckdb__list_first(list) %}{{ list }}[1]{% endmacro %}
{% macro spark__list_first(list) %}element_at({{ list }}, 1){% endmacro %}

{# Each element mapped through an expression of `var`: list_transform / transform. #}
{% macro list_transform(list, var, expr) %}{{ return(adapter.dispatch('list_transform')(list, var, expr)) }}{% endmacro %}
{% macro duckdb__list_transform(list, var, expr) %}list_transform({{ list }}, lambda {{ var }}: {{ expr }}){% endmacro %}
{% macro spark__list_transform(list, var, expr) %}transform({{ list }}, {{ var }} -> {{ expr }}){% endmacro %}

{# The elements for which a predicate of `var` holds: list_filter / filter. #}
{% macro list_filter(list, var, predicate) %}{{ return(adapter.dispatch('list_filter')(list, var, predicate)) }}{% endmacro %}
{% macro duckdb__list_filter(list, var, predicate) %}list_filter({{ list }}, lambda {{ var }}: {{ predicate }}){% endmacro %}
{% macro spark__list_filter(list, var, predicate) %}filter({{ list }}, {{ var }} -> {{ predicate }}){% endmacro %}

{# Whether some element satisfies a predicate of `var` (null for a null list). #}
{% macro list_exists(list, var, predicate) %}{{ return(adapter.dispatch('list_exists')(list, var, predicate)) }}{% endmacro %}
{% macro duckdb__list_exists(list, var, predicate) %}len(list_filter({{ list }}, lambda {{ var }}: {{ predicate }})) > 0{% endmacro %}
{% macro spark__list_exists(list, var, predicate) %}exists({{ list }}, {{ var }} -> {{ predicate }}){% endmacro %}

{#
  Whether two lists share an element. A list holding a null and no shared element gives false on
  DuckDB and null on Spark: callers coalesce, or use it where null and false lead the same way.
#}
{% macro list_has_any(list, other) %}{{ return(adapter.dispatch('list_has_any')(list, other)) }}{% endmacro %}
{% macro duckdb__list_has_any(list, other) %}list_has_any({{ list }}, {{ other }}){% endmacro %}
{% macro spark__list_has_any(list, other) %}arrays_overlap({{ list }}, {{ other }}){% endmacro %}

{# The list without repeats (order not kept on DuckDB: use it where order does not matter). #}
{% macro list_distinct(list) %}{{ return(adapter.dispatch('list_distinct')(list)) }}{% endmacro %}
{% macro duckdb__list_distinct(list) %}list_distinct({{ list }}){% endmacro %}
{% macro spark__list_distinct(list) %}array_distinct({{ list }}){% endmacro %}

{# One row per element, in a SELECT list (no row for an empty or null list): unnest / explode. #}
{% macro unnest(list) %}{{ return(adapter.dispatch('unnest')(list)) }}{% endmacro %}
{% macro duckdb__unnest(list) %}unnest({{ list }}){% endmacro %}
{% macro spark__unnest(list) %}explode({{ list }}){% endmacro %}

{#
  Aggregate: the distinct non-null values of a group as a sorted list. A group with no non-null
  value gives null on DuckDB and [] on Spark: use it where every group holds one (or coalesce).
#}
{% macro list_agg_distinct_sorted(expr) %}{{ return(adapter.dispatch('list_agg_distinct_sorted')(expr)) }}{% endmacro %}
{% macro duckdb__list_agg_distinct_sorted(expr) %}list(distinct {{ expr }} order by {{ expr }}) filter (where {{ expr }} is not null){% endmacro %}
{% macro spark__list_agg_distinct_sorted(expr) %}array_sort(collect_set({{ expr }})){% endmacro %}

{# Aggregate: the group's lists concatenated into one (null lists skipped; order not kept). #}
{% macro list_agg_flatten(list) %}{{ return(adapter.dispatch('list_agg_flatten')(list)) }}{% endmacro %}
{% macro duckdb__list_agg_flatten(list) %}flatten(list({{ list }})){% endmacro %}
{% macro spark__list_agg_flatten(list) %}flatten(collect_list({{ list }})){% endmacro %}

{#
  Aggregate: `arg` of the row with the greatest (least) `val`, among the rows whose arg and val are
  both not null (DuckDB's arg_max skips a null arg; Spark's max_by would return it).
#}
{% macro arg_max(arg, val) %}{{ return(adapter.dispatch('arg_max')(arg, val)) }}{% endmacro %}
{% macro duckdb__arg_max(arg, val) %}arg_max({{ arg }}, {{ val }}){% endmacro %}
{% macro spark__arg_max(arg, val) %}max_by({{ arg }}, case when {{ arg }} is not null then {{ val }} end){% endmacro %}
{% macro arg_min(arg, val) %}{{ return(adapter.dispatch('arg_min')(arg, val)) }}{% endmacro %}
{% macro duckdb__arg_min(arg, val) %}arg_min({{ arg }}, {{ val }}){% endmacro %}
{% macro spark__arg_min(arg, val) %}min_by({{ arg }}, case when {{ arg }} is not null then {{ val }} end){% endmacro %}

{# Aggregate: the continuous (interpolated) quantile, as a double: quantile_cont / percentile. #}
{% macro quantile_cont(expr, fraction) %}{{ return(adapter.dispatch('quantile_cont')(expr, fraction)) }}{% endmacro %}
{% macro duckdb__quantile_cont(expr, fraction) %}quantile_cont({{ expr }}, {{ fraction }}){% endmacro %}
{% macro spark__quantile_cont(expr, fraction) %}percentile({{ expr }}, {{ fraction }}){% endmacro %}

{# Whole days from `start` to `end` (two dates). #}
{% macro days_between(start, end) %}{{ return(adapter.dispatch('days_between')(start, end)) }}{% endmacro %}
{% macro duckdb__days_between(start, end) %}date_diff('day', {{ start }}, {{ end }}){% endmacro %}
{% macro spark__days_between(start, end) %}datediff({{ end }}, {{ start }}){% endmacro %}

{# Whether a text starts with a prefix: starts_with / startswith. #}
{% macro starts_with(text, prefix) %}{{ return(adapter.dispatch('starts_with')(text, prefix)) }}{% endmacro %}
{% macro duckdb__starts_with(text, prefix) %}starts_with({{ text }}, {{ prefix }}){% endmacro %}
{% macro spark__starts_with(text, prefix) %}startswith({{ text }}, {{ prefix }}){% endmacro %}

{# A text cut at every occurrence of a literal separator (not a pattern). #}
{% macro split_text(text, separator) %}{{ return(adapter.dispatch('split_text')(text, separator)) }}{% endmacro %}
{% macro duckdb__split_text(text, separator) %}string_split({{ text }}, {{ sql_string(separator) }}){% endmacro %}
{% macro spark__split_text(text, separator) %}split({{ text }}, {{ regex_literal(separator | replace('\\', '\\\\') | replace('.', '\\.') | replace('|', '\\|')) }}){% endmacro %}

{#
  A regular expression as a SQL string literal. Both engines' patterns (RE2, java.util.regex) read
  the same for what hubwatch uses (classes, \pL \pN, anchors); sql_string escapes the backslashes
  Spark's parser would otherwise read as escapes.
#}
{% macro regex_literal(pattern) %}{{ return(sql_string(pattern)) }}{% endmacro %}

{# Every match of a pattern replaced (DuckDB replaces the first unless given 'g'; Spark all). #}
{% macro regexp_replace_all(text, pattern, replacement) %}{{ return(adapter.dispatch('regexp_replace_all')(text, pattern, replacement)) }}{% endmacro %}
{% macro duckdb__regexp_replace_all(text, pattern, replacement) %}regexp_replace({{ text }}, {{ regex_literal(pattern) }}, {{ sql_string(replacement) }}, 'g'){% endmacro %}
{% macro spark__regexp_replace_all(text, pattern, replacement) %}regexp_replace({{ text }}, {{ regex_literal(pattern) }}, {{ sql_string(replacement) }}){% endmacro %}

{# The lower-case hex SHA-256 of a text: sha256 / sha2(…, 256). #}
{% macro sha256_hex(text) %}{{ return(adapter.dispatch('sha256_hex')(text)) }}{% endmacro %}
{% macro duckdb__sha256_hex(text) %}sha256({{ text }}){% endmacro %}
{% macro spark__sha256_hex(text) %}sha2({{ text }}, 256){% endmacro %}

{# The MD5 hex of an aggregate's texts joined in sorted order (a fingerprint of a rules seed). #}
{% macro md5_of_sorted(expr) %}{{ return(adapter.dispatch('md5_of_sorted')(expr)) }}{% endmacro %}
{% macro duckdb__md5_of_sorted(expr) %}md5(coalesce(string_agg({{ expr }}, ';' order by {{ expr }}), '')){% endmacro %}
{% macro spark__md5_of_sorted(expr) %}md5(coalesce(array_join(array_sort(collect_list({{ expr }})), ';'), '')){% endmacro %}

{# The whole text of a file at run time, as a scalar subquery (its content is in no compiled SQL). #}
{% macro file_text(path) %}{{ return(adapter.dispatch('file_text')(path)) }}{% endmacro %}
{% macro duckdb__file_text(path) %}(select content from read_text({{ sql_string(path) }})){% endmacro %}
{% macro spark__file_text(path) %}(select value from text.`{{ path | replace('`', '``') }}`){% endmacro %}

{#
  JSON, from a text column holding a document. json_string: the value at a path as text (a string
  unquoted; an object or array as compact JSON). json_value: the value to cast to a number or a
  boolean. json_has: whether the path is there (a key holding JSON null counts on DuckDB, not on
  Spark; hubwatch's manifests write none). json_sum: the sum of the integer values of the object
  or array at a path (0 for none).
#}
{% macro json_string(json, path) %}{{ return(adapter.dispatch('json_string')(json, path)) }}{% endmacro %}
{% macro duckdb__json_string(json, path) %}json_extract_string({{ json }}, {{ sql_string(path) }}){% endmacro %}
{% macro spark__json_string(json, path) %}get_json_object({{ json }}, {{ sql_string(path) }}){% endmacro %}
{% macro json_value(json, path) %}{{ return(adapter.dispatch('json_value')(json, path)) }}{% endmacro %}
{% macro duckdb__json_value(json, path) %}json_extract({{ json }}, {{ sql_string(path) }}){% endmacro %}
{% macro spark__json_value(json, path) %}get_json_object({{ json }}, {{ sql_string(path) }}){% endmacro %}
{% macro json_has(json, path) %}{{ return(adapter.dispatch('json_has')(json, path)) }}{% endmacro %}
{% macro duckdb__json_has(json, path) %}json_exists({{ json }}, {{ sql_string(path) }}){% endmacro %}
{% macro spark__json_has(json, path) %}(get_json_object({{ json }}, {{ sql_string(path) }}) is not null){% endmacro %}
{% macro json_sum(json, path) %}{{ return(adapter.dispatch('json_sum')(json, path)) }}{% endmacro %}
{% macro duckdb__json_sum(json, path) -%}
    coalesce(list_sum(list_transform(json_extract({{ json }}, {{ sql_string(path ~ '.*') }}), lambda n: cast(n as bigint))), 0)
{%- endmacro %}
{% macro spark__json_sum(json, path) -%}
    coalesce(aggregate(
        coalesce(
            map_values(from_json(get_json_object({{ json }}, {{ sql_string(path) }}), 'map<string, bigint>')),
            from_json(get_json_object({{ json }}, {{ sql_string(path) }}), 'array<bigint>')
        ),
        cast(0 as bigint), (total, n) -> total + coalesce(n, 0)
    ), 0)
{%- endmacro %}

{#
  The JSON object at a path as compact text, without the given keys (old imports' local paths).
  DuckDB merges a patch that nulls them; Spark has no JSON patch, so the keys are cut out of
  Jackson's compact text (keys hold a string or a flat object; the e2e test compares the result).
#}
{% macro json_object_without(json, path, keys) %}{{ return(adapter.dispatch('json_object_without')(json, path, keys)) }}{% endmacro %}
{% macro duckdb__json_object_without(json, path, keys) -%}
    {%- set patch = {} -%}{%- for key in keys -%}{%- do patch.update({key: none}) -%}{%- endfor -%}
    cast(json_merge_patch(json_extract({{ json }}, {{ sql_string(path) }}), {{ sql_string(tojson(patch)) }}) as varchar)
{%- endmacro %}
{% macro spark__json_object_without(json, path, keys) -%}
    {%- set text = 'get_json_object(' ~ json ~ ', ' ~ sql_string(path) ~ ')' -%}
    {%- for key in keys -%}
        {%- set text = 'regexp_replace(regexp_replace(' ~ text ~ ', ' ~ regex_literal('"' ~ key ~ '":("(?:[^"\\\\]|\\\\.)*"|\\{[^{}]*\\}|[^,{}\\[\\]]*),?') ~ ", ''), " ~ regex_literal(',}$') ~ ", '}')" -%}
    {%- endfor -%}
    {{ text }}
{%- endmacro %}

{# The engine's own version, for build_info. #}
{% macro engine_version() %}{{ return(adapter.dispatch('engine_version')()) }}{% endmacro %}
{% macro duckdb__engine_version() %}(select library_version from pragma_version()){% endmacro %}
{% macro spark__engine_version() %}element_at(split(version(), ' '), 1){% endmacro %}
{% macro engine_name() %}{{ return(adapter.dispatch('engine_name')()) }}{% endmacro %}
{% macro duckdb__engine_name() %}'duckdb'{% endmacro %}
{% macro spark__engine_name() %}'spark'{% endmacro %}
{# The DuckDB version a build ran on (null on Spark: build_info's engine_version says Spark's). #}
{% macro duckdb_version() %}{{ return(adapter.dispatch('duckdb_version')()) }}{% endmacro %}
{% macro duckdb__duckdb_version() %}(select library_version from pragma_version()){% endmacro %}
{% macro spark__duckdb_version() %}cast(null as string){% endmacro %}

{# SQL types: text and an instant (DuckDB's TIMESTAMPTZ; Spark's TIMESTAMP is an instant, shown in UTC). #}
{% macro type_text() %}{{ return(adapter.dispatch('type_text')()) }}{% endmacro %}
{% macro duckdb__type_text() %}varchar{% endmacro %}
{% macro spark__type_text() %}string{% endmacro %}
{% macro type_instant() %}{{ return(adapter.dispatch('type_instant')()) }}{% endmacro %}
{% macro duckdb__type_instant() %}timestamptz{% endmacro %}
{% macro spark__type_instant() %}timestamp{% endmacro %}

{#
  How a table kept per snapshot is updated: DuckDB deletes the reloaded keys and inserts them;
  Spark (Parquet, no MERGE without Delta or Iceberg) overwrites the partitions the run writes.
  keys: the columns naming one snapshot's rows (snapshot_date, and platform where two sources share
  a date). Spark partitions by them.
#}
{% macro incremental_by_snapshot(keys) %}{{ return(adapter.dispatch('incremental_by_snapshot')(keys)) }}{% endmacro %}
{% macro duckdb__incremental_by_snapshot(keys) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': keys}) }}
{%- endmacro %}
{% macro spark__incremental_by_snapshot(keys) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite',
               'partition_by': [keys] if keys is string else keys, 'file_format': 'parquet'}) }}
{%- endmacro %}

{#
  How a table with one row per item (an image) is updated: DuckDB merges the changed items
  (delete+insert on the key); on Spark a row moves to another snapshot's partition when its item is
  seen again, which only MERGE can do, so Spark rebuilds these tables whole on every build.
#}
{% macro incremental_by_item(key) %}{{ return(adapter.dispatch('incremental_by_item')(key)) }}{% endmacro %}
{% macro duckdb__incremental_by_item(key) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': key}) }}
{%- endmacro %}
{% macro spark__incremental_by_item(key) -%}
    {{ return({'materialized': 'table', 'file_format': 'parquet'}) }}
{%- endmacro %}
