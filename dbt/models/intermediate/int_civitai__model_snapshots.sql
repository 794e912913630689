{{ config(on_schema_change='fail', **incremental_by_snapshot('snapshot_date')) }}
-- One row per Civitai model per snapshot, classified under the rule set (all but the hash
-- tier, which needs every other tier first: see model_snapshots).
-- depends_on: {{ ref('int_snapshots') }}

{% set load_from = reload_from('civitai_models') %}

with snapshots as ({{ snapshots_to_load('civitai_models', load_from) }}),

models as (
    select models.*, snapshots.snapshot_version
    from {{ ref('stg_civitai__models') }} as models
    inner join snapshots using (snapshot_date)
    where models.snapshot_date >= {{ load_from }}
),

versions as (
    select
        snapshot_date,
        model_id,
        {{ arg_max('base_model', 'created_at') }} as latest_base_model,
        {{ list_agg_flatten('trained_words') }} as trained_words
    from {{ ref('stg_civitai__model_versions') }}
    where snapshot_date >= {{ load_from }}
    group by snapshot_date, model_id
),

enriched as (
    select
        models.*,
        versions.latest_base_model,
        coalesce(versions.trained_words, {{ empty_list() }}) as trained_words
    from models
    left join versions using (snapshot_date, model_id)
),

texts as (  -- what a depicted person's name can hide in: the model name and its trained words
    select snapshot_date, model_id, 'name' as kind, name as text from enriched
    union all
    select snapshot_date, model_id, 'trained_word' as kind, {{ unnest('trained_words') }} as text from enriched
),

ngrams as (
    select snapshot_date, model_id, {{ unnest(word_ngrams('words')) }} as ngram
    from (select snapshot_date, model_id, {{ words_of('text') }} as words from texts)
),

name_matches as ({{ real_person_name_matches('ngrams') }}),

tags as (
    select snapshot_date, model_id, {{ unnest('tags') }} as tag from enriched
),

tagged as ({{ real_person_tagged('tags') }}),

gender_tokens as (  -- whole tags, words of tags, words of trained words (never the model name)
    select snapshot_date, model_id, tag as token from tags
    union all
    select snapshot_date, model_id, {{ unnest(words_of('tag')) }} from tags
    union all
    select snapshot_date, model_id, {{ unnest(words_of('text')) }} from texts where kind = 'trained_word'
),

genders as ({{ gender_signals('gender_tokens') }})

select
    'civitai' as platform,
    cast(enriched.model_id as {{ type_text() }}) as model_id,
    enriched.snapshot_date,
    enriched.snapshot_version,
    enriched.name,
    enriched.model_type,
    coalesce(enriched.latest_base_model, {{ list_first('enriched.base_models') }}) as base_model,
    coalesce(families.family, 'other') as base_model_family,
    coalesce(families.booru_vocabulary, false) as booru_base_model,
    enriched.created_at,
    {{ creator_hash('enriched.creator_username') }} as creator_hash,
    enriched.nsfw_declared,
    enriched.nsfw_level,
    {{ civitai_model_nsfw('enriched.nsfw_level', 'enriched.nsfw_declared', nsfw_any_mask()) }} as nsfw_any,
    {{ civitai_model_nsfw('enriched.nsfw_level', 'enriched.nsfw_declared', nsfw_strict_mask()) }} as nsfw_strict,
    coalesce(enriched.poi, false) as real_person_declared,
    tagged.model_id is not null as real_person_tagged,
    name_matches.model_id is not null as real_person_name_match,
    coalesce(name_matches.matched_names, {{ empty_list() }}) as matched_names,
    {{ target_gender('genders') }} as target_gender,
    enriched.download_count as downloads_total,
    cast(null as bigint) as downloads_30d,
    case enriched.mode when 'TakenDown' then 'taken_down' when 'Archived' then 'archived' else 'active' end as status,
    enriched.tags,
    -- UTC: when the build that (re)loaded this snapshot started (a build writes whole snapshots)
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at
from enriched
left join name_matches using (snapshot_date, model_id)
left join tagged using (snapshot_date, model_id)
left join genders using (snapshot_date, model_id)
left join {{ ref('rules_base_model_families') }} as families
    on families.base_model = coalesce(enriched.latest_base_model, {{ list_first('enriched.base_models') }})
