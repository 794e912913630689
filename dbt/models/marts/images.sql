{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_images_of_replaced_snapshots() }}",
    **incremental_by_item(['platform', 'image_id']),
) }}
-- One row per image ever seen in a complete snapshot, with its latest known attributes: those of
-- the sighting int_image_last_seen names as its last. A daily build rewrites only the images whose
-- last sighting changed (the new snapshots' images, and those last seen in a snapshot being
-- reloaded), not the whole history: see reload_from.
-- depends_on: {{ ref('int_snapshots') }}
{% set load_from = reload_from('civitai_images', date_column='last_seen', version_column='last_seen_version') %}
{% set retaken = holds_images_seen_since(load_from) %}

with latest as (  -- Civitai only: image_id is the grain
    select image_id, first_seen, last_seen, last_seen_version
    from {{ ref('int_image_last_seen') }}
    {% if is_incremental() %}
    where {{ image_sighting_changed(load_from, retaken, column='cast(image_id as ' ~ type_text() ~ ')') }}
    {% endif %}
)

select
    sighting.platform,
    cast(sighting.image_id as {{ type_text() }}) as image_id,
    sighting.created_at,
    cast(date_trunc('month', sighting.created_at) as date) as month,
    sighting.browsing_level,
    sighting.level_source,
    sighting.nsfw_any,
    sighting.nsfw_strict,
    sighting.nsfw_explicit,
    sighting.base_model,
    sighting.tags,
    latest.first_seen,
    latest.last_seen,
    latest.last_seen_version
from latest
inner join {{ ref('int_image_sightings') }} as sighting
    on sighting.image_id = latest.image_id and sighting.snapshot_date = latest.last_seen
{% if is_incremental() and not retaken %}
-- an ordinary day: every rewritten image was last seen in a snapshot being loaded (the engine
-- skips the sightings' older row groups); a retake may move images back to earlier sightings
where sighting.snapshot_date >= {{ load_from }}
{% endif %}
