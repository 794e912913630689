-- What each Civitai image was made with: every resource reference of the image's latest
-- sighting (image -> model version -> model), resolved against the versions and weight-file
-- hashes the models crawls listed. A reference that resolves to nothing is kept and says why.
with images as (
    select image_id, last_seen from {{ ref('images') }}
),

refs as (
    select * from {{ ref('stg_civitai__image_resources') }}
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

latest_refs as (
    select refs.*
    from refs
    inner join images
        on images.image_id = cast(refs.image_id as {{ type_text() }})
        and images.last_seen = refs.snapshot_date
),

resolved as (
    select
        latest_refs.image_id,
        latest_refs.position,
        latest_refs.ref_source,
        latest_refs.resource_type,
        latest_refs.weight,
        latest_refs.hash,
        latest_refs.hash_kind,
        latest_refs.model_version_id as given_model_version_id,
        by_hash.n_versions as n_versions_with_hash,
        coalesce(by_id.version_id, hashed.version_id) as model_version_id,
        coalesce(by_id.model_id, hashed.model_id) as model_id,
        coalesce(by_id.base_model_family, hashed.base_model_family) as base_model_family,
        {{ image_resource_resolution('latest_refs', 'by_id', 'by_hash') }} as resolution
    from latest_refs
    left join versions as by_id
        on by_id.version_id = latest_refs.model_version_id
    left join hashes as by_hash
        on latest_refs.model_version_id is null
        and by_hash.hash_kind = latest_refs.hash_kind
        and by_hash.hash = latest_refs.hash
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
    end as resolved_by
from resolved
left join models on models.model_id = cast(resolved.model_id as {{ type_text() }})
