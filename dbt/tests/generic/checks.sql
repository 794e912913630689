{#
  A model's checks of one severity in one test node (each dbt test costs a build ~30 ms of dbt's
  own Python and is an asset check of its own in Dagster, whatever it checks), named
  `checks_<model>` (`checks_<model>_warn` for the warnings). Each argument is one kind of check:
  - grain: the columns no two rows share (the key `hubwatch diff` matches rows by). With
    `grain_changed_rows` (a condition on the model's rows), only the keys of the rows it selects
    are looked for, though across the whole table: on a table a daily build appends to, the rows
    it did not write were checked by the build that wrote them, and regrouping 40M keys every day
    would cost more than the day's load. With `grain_rows`, only the rows it selects are grouped
    at all: for a grain that contains what the condition selects by (a view over every snapshot,
    keyed by snapshot), where two rows sharing the key would both be selected. With `grain_index`
    (a name: see grain_index.sql), `grain_rows` applies only while DuckDB holds the grain with that
    unique index on these columns (no repeat can be stored then); without it (Spark, or the index
    gone) every row is grouped.
    Where a table keeps one row per image, `grain_rows` on the rows the latest build wrote with
    `rows_per_group` (below) holds the grain at a fraction of the cost of `grain_changed_rows` (a
    semi-join of the written keys with every stored one: ~1.4 s a day at 44M images): a key written
    again beside an older row that stayed (a delete that missed it) leaves that row's snapshot
    with one row more than it has images, whichever snapshot it is in; only a missing row of the
    same snapshot at once could hide it. It also fails when the table and int_image_last_seen
    disagree for another reason (a row missing; a build that stopped between them): a real
    inconsistency, if not a repeated key.
  - rows_per_group: {group: a column, expected: a query of (that column, n_rows)}: each value of
    the column has as many rows as the query says (a value missing on either side counts as 0).
    For the per-image tables, the rows per last-seen snapshot against the images per snapshot.
  - unique: further column lists no two rows share (over every row).
  - not_null: columns that hold no null.
  - accepted_values: a list of {column, values, quote (default true: the values are strings)}: the
    column holds only these values (or null, as dbt's accepted_values).
  - unit_interval: shares, numbers in [0, 1], never null (nor NaN).
  - expressions: invariants between columns that every row satisfies (null, as in
    `where not (...)`, is no failure).
  The column checks are counted in one scan (one aggregate), each key by its own grouping; the
  test returns a row per check that some rows fail (`kind`: the argument's name, `checked`: the
  column, expression or key, `n_failing`: the rows that fail it, or the keys repeated), so a
  failure says what failed and how often (the build record and `hubwatch build`'s error line
  quote those rows). dbt's failure count is their sum (fail_calc).
#}
{% test checks(model, grain=none, grain_changed_rows=none, grain_rows=none, grain_index=none, rows_per_group=none, unique=[], not_null=[], accepted_values=[], unit_interval=[], expressions=[]) %}
{{ config(fail_calc = 'coalesce(sum(n_failing), 0)') }}
{%- if not (grain or rows_per_group or unique or not_null or accepted_values or unit_interval or expressions) -%}
    {{ exceptions.raise_compiler_error("checks on " ~ model ~ ": no check given (grain, rows_per_group, unique, not_null, accepted_values, unit_interval or expressions)") }}
{%- endif -%}
{%- set counted = [] -%}
{%- for column in not_null -%}
    {%- do counted.append(['not_null', column, 'count(*) - count(' ~ column ~ ')']) -%}
{%- endfor -%}
{%- for check in accepted_values -%}
    {%- set values = [] -%}
    {%- for value in check['values'] %}{% do values.append(sql_string(value) if check.get('quote', true) else value) %}{% endfor -%}
    {%- do counted.append(['accepted_values', check.column, 'sum(case when ' ~ check.column ~ ' not in (' ~ values | join(', ') ~ ') then 1 else 0 end)']) -%}
{%- endfor -%}
{%- for column in unit_interval -%}
    {%- do counted.append(['unit_interval', column, 'count(*) - count(case when ' ~ column ~ ' between 0 and 1 then 1 end)']) -%}
{%- endfor -%}
{%- for expression in expressions -%}
    {%- do counted.append(['expressions', expression, 'sum(case when not (' ~ expression ~ ') then 1 else 0 end)']) -%}
{%- endfor -%}
{%- set keys = [] -%}
{%- if grain -%}
    {%- do keys.append(['grain', grain | join(', '), repeated_keys(model, grain, grain_changed_rows, grain_rows, grain_index)]) -%}
{%- endif -%}
{%- if rows_per_group -%}
    {%- do keys.append(['rows_per_group', rows_per_group.group, groups_of_another_size(model, rows_per_group.group, rows_per_group.expected)]) -%}
{%- endif -%}
{%- for combination in unique -%}
    {%- do keys.append(['unique', combination | join(', '), repeated_keys(model, combination)]) -%}
{%- endfor -%}
{{ failing_checks(model, counted, keys) }}
{% endtest %}
