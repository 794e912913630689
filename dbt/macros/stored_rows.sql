{#
  A raw model table, every snapshot of it, whichever way it is stored (ingest/rowstore.py): the
  snapshots stored whole (the source `name`: imports, crawls stored before the row store) and the
  crawled snapshots stored as a listing (source `name`_listing: where each row is, and its counters)
  joined to the stored rows (source `name`_rows). `columns`: the table's columns to read (every
  staging model names its own); each comes from the listing when it is a counter, else from the
  stored row. The counters are ingest/rowstore.py's VOLATILE, table by table (a column read from
  the wrong side is a missing-column error at the first build, never a silent null).
#}
{% macro stored_rows(name, columns) %}
    {%- set counters = {
        'civitai_models': ['download_count', 'thumbs_up_count', 'thumbs_down_count', 'favorite_count', 'comment_count', 'tipped_amount_count'],
        'civitai_model_versions': ['download_count'],
        'civitai_model_files': [],
        'hf_models': ['downloads_30d', 'downloads_all_time', 'likes'],
        'hf_model_files': [],
    } -%}
    select snapshot_date, {{ columns | join(', ') }}
    from {{ source('raw', name) }}
    union all
    select listing.snapshot_date
        {%- for column in columns %}, {{ 'listing' if column in counters[name] else 'stored' }}.{{ column }}{% endfor %}
    from {{ source('raw', name ~ '_listing') }} as listing
    inner join {{ source('raw', name ~ '_rows') }} as stored
        on stored.rows_file = listing.rows_file and stored.rows_index = listing.rows_index
{%- endmacro %}
