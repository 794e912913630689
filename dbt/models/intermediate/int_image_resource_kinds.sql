{{ config(on_schema_change='fail', **incremental_by_item('ref_key')) }}
-- What each key an image's resource reference can name (a listed version id, or a SHA-256 or
-- AutoV2 hash of a listed weight file) resolves to (the version, its base-model family and its
-- model), with the kinds of the model it resolves to, as image_resources and int_images_made_with
-- decide them; changed_at is when the build that last
-- saw the outcome change started (UTC). A daily build rewrites only the keys whose outcome changed
-- (a new version or hash, a hash now shared, a version's new base model, a model whose real-person
-- or NSFW flags changed), and image_resources and int_images_made_with recompute the images naming
-- those keys, not every image. A key that no
-- longer resolves keeps a row with a null resolution (the change is recorded once, then stays).
with versions as (
    select version_id, model_id, base_model_family from {{ ref('int_civitai__version_index') }}
),

hashes as (
    select hash_kind, hash, n_versions, version_id from {{ ref('int_civitai__weight_file_hashes') }}
),

models as (
    select
        model_id,
        real_person,
        real_person_declared,
        real_person_tagged,
        real_person_name_match,
        real_person_hash_match,
        nsfw_strict
    from {{ ref('models') }}
    where platform = 'civitai'
),

keys as (  -- as image_resource_resolution resolves a reference by each
    select
        {{ resource_ref_key('versions.version_id', 'null', 'null') }} as ref_key,
        'resolved' as resolution,
        versions.version_id,
        versions.base_model_family,
        cast(versions.model_id as {{ type_text() }}) as model_id
    from versions
    union all
    select
        {{ resource_ref_key('null', 'hashes.hash_kind', 'hashes.hash') }},
        case
            when hashes.n_versions > 1 then 'ambiguous_hash'
            when hashes.version_id is not null then 'resolved'
            else 'unknown_hash'
        end,
        hashed.version_id,
        hashed.base_model_family,
        case when hashes.n_versions > 1 then null else cast(hashed.model_id as {{ type_text() }}) end
    from hashes
    left join versions as hashed on hashed.version_id = hashes.version_id
    where hashes.hash_kind in ('autov2', 'sha256')
),

outcomes as (
    select
        keys.ref_key,
        keys.resolution,
        keys.version_id,
        keys.base_model_family,
        keys.model_id,
        models.real_person,
        models.real_person_declared,
        models.real_person_tagged,
        models.real_person_name_match,
        models.real_person_hash_match,
        models.nsfw_strict
    from keys
    left join models on models.model_id = keys.model_id and keys.resolution = 'resolved'
)

{% if is_incremental() %}
select
    coalesce(outcomes.ref_key, stored.ref_key) as ref_key,
    outcomes.resolution,
    outcomes.version_id,
    outcomes.base_model_family,
    outcomes.model_id,
    outcomes.real_person,
    outcomes.real_person_declared,
    outcomes.real_person_tagged,
    outcomes.real_person_name_match,
    outcomes.real_person_hash_match,
    outcomes.nsfw_strict,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as changed_at  -- UTC
from outcomes
full outer join {{ this }} as stored on stored.ref_key = outcomes.ref_key
where outcomes.resolution is distinct from stored.resolution
    or outcomes.version_id is distinct from stored.version_id
    or outcomes.base_model_family is distinct from stored.base_model_family
    or outcomes.model_id is distinct from stored.model_id
    or outcomes.real_person is distinct from stored.real_person
    or outcomes.real_person_declared is distinct from stored.real_person_declared
    or outcomes.real_person_tagged is distinct from stored.real_person_tagged
    or outcomes.real_person_name_match is distinct from stored.real_person_name_match
    or outcomes.real_person_hash_match is distinct from stored.real_person_hash_match
    or outcomes.nsfw_strict is distinct from stored.nsfw_strict
{% else %}
select
    *,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as changed_at  -- UTC
from outcomes
{% endif %}
