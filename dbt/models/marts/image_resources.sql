{{ config(
    on_schema_change='fail',
    pre_hook="{{ delete_rows_of_images_sighted_since(last_written_at()) }}",
    post_hook="{{ delete_images_of_replaced_snapshots() }}",
    **incremental_by_item('image_id'),
) }}
-- What each Civitai image was made with: every resource reference of the image's latest
-- sighting (image -> model version -> model), resolved against the versions and weight-file
-- hashes the models crawls listed. A reference that resolves to nothing is kept and says why.
-- A daily build rewrites the images whose latest sighting changed since this table last wrote
-- (read from raw/ from the earliest of those sightings on: normally the new snapshot alone) and
-- the images naming a reference key whose outcome changed (int_image_resource_kinds: re-resolved
-- from the references stored here), not every image; see images_sighted_since. last_seen and
-- last_seen_version name the sighting the references come from, as in `images`; loaded_at is
-- when the build that last wrote the image's rows started (UTC).
-- depends_on: {{ ref('int_image_resource_kinds') }}
{% set written_at = last_written_at() %}
{% set kinds_changed = written_at and resource_kinds_changed_since_written() %}  {#- with no row written yet, every image is read anew #}

with sighted as (  -- the images to read anew (all of them on a full build)
    {{ images_sighted_since(written_at) }}
),

refs as (  -- the references of those sightings, as sent
    select
        refs.image_id,
        refs.position,
        refs.ref_source,
        refs.resource_type,
        refs.weight,
        refs.hash,
        refs.hash_kind,
        refs.model_version_id,
        sighted.last_seen,
        sighted.last_seen_version
    from {{ ref('stg_civitai__image_resources') }} as refs
    inner join sighted
        on sighted.image_id = cast(refs.image_id as {{ type_text() }})
        and sighted.last_seen = refs.snapshot_date
    where refs.snapshot_date >= {{ first_sighting_since(written_at) }}
    {% if kinds_changed %}
    union all  -- and the stored references of the other images naming a key whose outcome changed
    select
        cast(stored.image_id as bigint),
        stored.position,
        stored.ref_source,
        stored.resource_type,
        stored.weight,
        stored.hash,
        stored.hash_kind,
        stored.given_model_version_id,
        stored.last_seen,
        stored.last_seen_version
    from {{ this }} as stored
    where stored.image_id in (
            select named.image_id
            from {{ this }} as named
            inner join {{ ref('int_image_resource_kinds') }} as kinds
                on kinds.ref_key = {{ resource_ref_key('named.given_model_version_id', 'named.hash_kind', 'named.hash') }}
            where kinds.changed_at > {{ written_at }}
        )
        and stored.image_id not in (select image_id from sighted)
    {% endif %}
),

versions as (
    select * from {{ ref('int_civitai__version_index') }}
),

hashes as (
    select * from {{ ref('int_civitai__weight_file_hashes') }}
),

models as (
    select model_id, real_person from {{ ref('models') }}
    where platform = 'civitai'
),

resolved as (
    select
        refs.image_id,
        refs.position,
        refs.ref_source,
        refs.resource_type,
        refs.weight,
        refs.hash,
        refs.hash_kind,
        refs.model_version_id as given_model_version_id,
        by_hash.n_versions as n_versions_with_hash,
        coalesce(by_id.version_id, hashed.version_id) as model_version_id,
        coalesce(by_id.model_id, hashed.model_id) as model_id,
        coalesce(by_id.base_model_family, hashed.base_model_family) as base_model_family,
        {{ image_resource_resolution('refs', 'by_id', 'by_hash') }} as resolution,
        refs.last_seen,
        refs.last_seen_version
    from refs
    left join versions as by_id
        on by_id.version_id = refs.model_version_id
    left join hashes as by_hash
        on refs.model_version_id is null
        and by_hash.hash_kind = refs.hash_kind
        and by_hash.hash = refs.hash
    left join versions as hashed
        on hashed.version_id = by_hash.version_id
)

select
    'civitai' as platform,
    cast(resolved.image_id as {{ type_text() }}) as image_id,
    position,
    ref_source,
    resource_type,
    weight,
    hash,
    hash_kind,
    given_model_version_id,
    model_version_id,
    cast(resolved.model_id as {{ type_text() }}) as model_id,
    resolved.base_model_family,
    models.real_person,
    resolution,
    case
        when resolution = 'resolved' and given_model_version_id is not null then 'version_id'
        when resolution = 'resolved' then hash_kind
    end as resolved_by,
    resolved.last_seen,
    resolved.last_seen_version,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from resolved
left join models on models.model_id = cast(resolved.model_id as {{ type_text() }})
