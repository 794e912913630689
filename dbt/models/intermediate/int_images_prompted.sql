{{ config(
    on_schema_change='fail',
    post_hook="{{ delete_images_of_replaced_snapshots() }}",
    stored_keys='image_may_be_stored',
    **incremental_by_item('image_id'),
) }}
-- One row per Civitai image ever seen: whether its latest sighting had a prompt, its NSFW tiers,
-- and (1/0) whether the prompt holds minor-coded terms: a Civitai minor noun, or a minor adjective
-- together with a partial noun (`young` with `girl`), as Civitai's own check combines them.
-- A daily build rewrites only the images whose latest sighting changed (as `images` does), reading
-- the prompts of the snapshots it (re)loads; all of them when the prompt term rules changed
-- (rules_hash: a fingerprint of prompt_family_patterns). loaded_at is when the build that last
-- rewrote the row started (UTC).
-- depends_on: {{ ref('int_snapshots') }}
{% set rules_hash = prompt_rules_hash() %}
{% if rules_changed_since_written(rules_hash) %}
    {% set load_from = "date '0001-01-01'" %}
    {% set retaken = false %}
{% else %}
    {% set load_from = reload_from('civitai_images', date_column='last_seen', version_column='last_seen_version') %}
    {% set retaken = holds_images_seen_since(load_from) %}
{% endif %}

with images as (  -- the images to rewrite (all of them on a full refresh)
    select image_id, month, nsfw_strict, nsfw_explicit, last_seen, last_seen_version from {{ ref('images') }}
    {% if is_incremental() %}
    where {{ image_sighting_changed(load_from, retaken) }}
    {% endif %}
),

prompted as (
    select distinct cast(prompts.image_id as {{ type_text() }}) as image_id
    from {{ ref('stg_civitai__image_prompts') }} as prompts
    inner join images
        on images.image_id = cast(prompts.image_id as {{ type_text() }})
        and images.last_seen = prompts.snapshot_date
    where prompts.prompt is not null
    {% if is_incremental() %}
        -- the snapshots being (re)loaded; earlier ones only for images a retake moved back to them
        and {{ image_sighting_changed(load_from, retaken, column='cast(prompts.image_id as ' ~ type_text() ~ ')', last_seen_column='prompts.snapshot_date') }}
    {% endif %}
),

families as (
    select
        image_id,
        max(case when family = 'civitai_minor_nouns' then 1 else 0 end) as has_minor_noun,
        max(case when family = 'civitai_minor_adjectives' then 1 else 0 end) as has_minor_adjective,
        max(case when family = 'civitai_minor_partial_nouns' then 1 else 0 end) as has_partial_noun
    from {{ ref('int_image_prompt_families') }}
    {% if is_incremental() %}
    where image_id in (select image_id from images)
    {% endif %}
    group by image_id
)

select
    images.image_id,
    images.month,
    images.nsfw_strict,
    images.nsfw_explicit,
    case when prompted.image_id is not null then 1 else 0 end as has_prompt,
    case
        when families.has_minor_noun = 1 then 1
        when families.has_minor_adjective = 1 and families.has_partial_noun = 1 then 1
        else 0
    end as minor_coded,
    images.last_seen,
    images.last_seen_version,
    '{{ rules_hash }}' as rules_hash,
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at  -- UTC
from images
left join prompted on prompted.image_id = images.image_id
left join families on families.image_id = images.image_id
