{#
  A condition on the rows a per-image model writes (its config `stored_keys` names this macro;
  the delete of delete+insert below renders it): false only for an image the table cannot hold yet,
  one first seen after the newest sighting the table holds (images' first_seen later than the
  table's max(last_seen)). A row the table holds for an image is last seen in a snapshot at or
  before that max; while that snapshot stands, the image's first_seen is no later, so the row's key
  is looked for. A row of a snapshot retaken since points at a version no longer in int_snapshots:
  the post-hook delete_images_of_replaced_snapshots removes it, as it does the rows of images seen
  nowhere now (a withdrawn snapshot makes the build a full refresh).
  Why: looking for every key written among every image ever seen built a hash table of the day's
  new images (1.3M at the large tier) and probed it with every stored key: ~1.4 CPU-s a table a day
  at 40M images, growing with history; looking for the few keys that can be stored: ~0.16 CPU-s.
#}
{% macro image_may_be_stored() -%}
    image_id not in (
        select image_id from {{ ref('images') }}
        where image_id is not null  -- one null would make `not in` null for every row: none looked for
            and last_seen > (select max(last_seen) from {{ this }})
            and first_seen > (select max(last_seen) from {{ this }})
    )
{%- endmacro %}

{#
  dbt-duckdb's delete+insert (its macro of this name in dbt-duckdb 1.11.1, which this one replaces:
  tests/test_build_cost.py fails when dbt-duckdb's changes, to be compared again), plus the model's
  optional config `stored_keys`: the name of a macro giving a condition on the rows written that
  holds for every row whose key the table may hold already (see image_may_be_stored), rendered as
  the model runs (a config's own text is rendered when the project is parsed, where ref() names
  the model itself). The delete looks for the keys of those rows alone; every written row is
  inserted.
#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    {%- set stored = context[config.get('stored_keys')]() if config.get('stored_keys') else none -%}
    {%- set written = source if not stored else '(select * from ' ~ source ~ ' where ' ~ stored ~ ')' -%}
    {% if unique_key %}
        {% if unique_key is sequence and unique_key is not string %}
            delete from {{ target }} as DBT_INCREMENTAL_TARGET
            using {{ written }} as DBT_INCREMENTAL_SOURCE
            where (
                {% for key in unique_key %}
                    DBT_INCREMENTAL_SOURCE.{{ key }} = DBT_INCREMENTAL_TARGET.{{ key }}
                    {{ "and " if not loop.last }}
                {% endfor %}
                {% if incremental_predicates %}
                    {% for predicate in incremental_predicates %}
                        and {{ predicate }}
                    {% endfor %}
                {% endif %}
            );
        {% else %}
            delete from {{ target }}
            where (
                {{ unique_key }}) in (
                select ({{ unique_key }})
                from {{ written }}
            )
            {%- if incremental_predicates %}
                {% for predicate in incremental_predicates %}
                    and {{ predicate }}
                {% endfor %}
            {%- endif -%};
        {% endif %}
    {% endif %}

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )
{%- endmacro %}
