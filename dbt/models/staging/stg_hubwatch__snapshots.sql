-- One row per complete snapshot, from its manifest: what was crawled, how, and how it went.
with manifests as (
    select content from {{ source('raw', 'manifests') }}
)

select
    json_extract_string(content, '$.source') as source,
    cast(json_extract_string(content, '$.snapshot_date') as date) as snapshot_date,
    json_extract_string(content, '$.kind') as kind,
    coalesce(json_extract_string(content, '$.params.scope'), 'all') as scope,
    json_extract_string(content, '$.host') as host,
    -- imports before 2026-11 kept their local input path and a map of every file's sha256 in
    -- params: neither belongs in a package (provenance stays in the raw manifest's `inputs`)
    cast(
        json_merge_patch(json_extract(content, '$.params'), '{"input_path": null, "input_sha256": null}')
        as varchar
    ) as params,
    cast(json_extract(content, '$.pages') as bigint) as pages,
    cast(
        coalesce(
            json_extract(content, '$.items.models'),
            json_extract(content, '$.items.images')
        ) as bigint
    ) as items,
    cast(json_extract(content, '$.complete') as boolean) as complete,
    coalesce(
        list_sum(list_transform(json_extract(content, '$.errors.*'), lambda e: cast(e as bigint))), 0
    ) as errors,
    cast(json_extract_string(content, '$.started_at') as timestamptz) as started_at,
    cast(json_extract_string(content, '$.finished_at') as timestamptz) as finished_at,
    -- a retaken snapshot (--force) gets a new finish time: incremental models reload it
    json_extract_string(content, '$.finished_at') as snapshot_version,
    json_extract_string(content, '$.source_url') as source_url,
    -- what normalisation could not use (null: a snapshot taken before these were counted)
    {{ manifest_count_sum('unparsed') }} as n_unparsed_timestamps,
    {{ manifest_count_sum('odd_values') }} as n_odd_values,
    case
        when json_exists(content, '$.invalid') then cast(json_extract(content, '$.invalid.items') as bigint)
    end as n_skipped_invalid,
    cast(json_extract(content, '$.inputs.n_files') as bigint) as n_input_files,
    json_extract_string(content, '$.params.inputs_sha256') as inputs_sha256,
    json_extract_string(content, '$.hubwatch_version') as hubwatch_version,
    -- both Civitai hosts (ingest/cross_host.py): null when the snapshot compared none
    json_extract_string(content, '$.cross_host.bases_text') as cross_host_bases,
    cast(json_extract(content, '$.cross_host.divergent') as boolean) as cross_host_divergent,
    json_extract_string(content, '$.cross_host.divergent_levels_text') as cross_host_divergent_levels
from manifests
