-- One row per complete snapshot, from its manifest: what was crawled, how, and how it went.
with manifests as (
    select content from {{ source('raw', 'manifests') }}
)

select
    {{ json_string('content', '$.source') }} as source,
    cast({{ json_string('content', '$.snapshot_date') }} as date) as snapshot_date,
    {{ json_string('content', '$.kind') }} as kind,
    coalesce({{ json_string('content', '$.params.scope') }}, 'all') as scope,
    {{ json_string('content', '$.host') }} as host,
    -- imports before 2026-11 kept their local input path and a map of every file's sha256 in
    -- params: neither belongs in a package (provenance stays in the raw manifest's `inputs`)
    {{ json_object_without('content', '$.params', ['input_path', 'input_sha256']) }} as params,
    cast({{ json_value('content', '$.pages') }} as bigint) as pages,
    cast(
        coalesce(
            {{ json_value('content', '$.items.models') }},
            {{ json_value('content', '$.items.images') }}
        ) as bigint
    ) as items,
    cast({{ json_value('content', '$.complete') }} as boolean) as complete,
    {{ json_sum('content', '$.errors') }} as errors,
    cast({{ json_string('content', '$.started_at') }} as {{ type_instant() }}) as started_at,
    cast({{ json_string('content', '$.finished_at') }} as {{ type_instant() }}) as finished_at,
    -- a retaken snapshot (--force) gets a new finish time: incremental models reload it
    {{ json_string('content', '$.finished_at') }} as snapshot_version,
    {{ json_string('content', '$.source_url') }} as source_url,
    -- what normalisation could not use (null: a snapshot taken before these were counted)
    {{ manifest_count_sum('unparsed') }} as n_unparsed_timestamps,
    {{ manifest_count_sum('odd_values') }} as n_odd_values,
    case
        when {{ json_has('content', '$.invalid') }} then cast({{ json_value('content', '$.invalid.items') }} as bigint)
    end as n_skipped_invalid,
    cast({{ json_value('content', '$.inputs.n_files') }} as bigint) as n_input_files,
    {{ json_string('content', '$.params.inputs_sha256') }} as inputs_sha256,
    {{ json_string('content', '$.hubwatch_version') }} as hubwatch_version,
    -- both Civitai hosts (ingest/cross_host.py): null when the snapshot compared none
    {{ json_string('content', '$.cross_host.bases_text') }} as cross_host_bases,
    cast({{ json_value('content', '$.cross_host.divergent') }} as boolean) as cross_host_divergent,
    {{ json_string('content', '$.cross_host.divergent_levels_text') }} as cross_host_divergent_levels
from manifests
