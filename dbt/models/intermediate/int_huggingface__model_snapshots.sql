{{ config(on_schema_change='fail', **incremental_by_snapshot('snapshot_date')) }}
-- One row per Hugging Face model per snapshot, classified under the rule set. The Hub has no
-- declared real-person flag; names are matched in the repo id, gender from tags only.
-- depends_on: {{ ref('int_snapshots') }}

{% set load_from = reload_from('hf_models') %}

with snapshots as ({{ snapshots_to_load('hf_models', load_from) }}),

models as (
    select models.*, snapshots.snapshot_version
    from {{ ref('stg_huggingface__models') }} as models
    inner join snapshots using (snapshot_date)
    where models.snapshot_date >= {{ load_from }}
),

ngrams as (
    select snapshot_date, model_id, {{ unnest(word_ngrams('words')) }} as ngram
    from (select snapshot_date, model_id, {{ words_of('model_id') }} as words from models)
),

name_matches as ({{ real_person_name_matches('ngrams') }}),

tags as (
    select snapshot_date, model_id, {{ unnest('tags') }} as tag from models
),

tagged as ({{ real_person_tagged('tags') }}),

gender_tokens as (select snapshot_date, model_id, tag as token from tags),

genders as ({{ gender_signals('gender_tokens') }}),

families as (  -- the longest known repo prefix of the first base model decides the family
    select
        models.snapshot_date,
        models.model_id,
        {{ arg_max('rules.family', 'length(rules.repo_prefix)') }} as family,
        {{ arg_max('rules.booru_vocabulary', 'length(rules.repo_prefix)') }} as booru_vocabulary
    from models
    inner join {{ ref('rules_hf_base_model_families') }} as rules
        on {{ starts_with(list_first('models.base_models'), 'rules.repo_prefix') }}
    group by all
)

select
    'huggingface' as platform,
    models.model_id,
    models.snapshot_date,
    models.snapshot_version,
    models.model_id as name,
    case
        when {{ list_has_any('models.tags', list_of(["'lora'", "'template:sd-lora'"])) }}
            or {{ list_exists('models.tags', 't', starts_with('t', "'base_model:adapter:'")) }}
            then 'adapter'
        else 'model'
    end as model_type,
    {{ list_first('models.base_models') }} as base_model,
    coalesce(families.family, 'other') as base_model_family,
    coalesce(families.booru_vocabulary, false) as booru_base_model,
    models.created_at,
    {{ creator_hash('models.author') }} as creator_hash,
    {{ hf_nsfw('models.tags') }} as nsfw_declared,
    cast(null as bigint) as nsfw_level,
    {{ hf_nsfw('models.tags') }} as nsfw_any,
    {{ hf_nsfw('models.tags') }} as nsfw_strict,
    false as real_person_declared,
    tagged.model_id is not null as real_person_tagged,
    name_matches.model_id is not null as real_person_name_match,
    coalesce(name_matches.matched_names, {{ empty_list() }}) as matched_names,
    {{ target_gender('genders') }} as target_gender,
    models.downloads_all_time as downloads_total,
    models.downloads_30d,
    'active' as status,
    models.tags,
    -- UTC: when the build that (re)loaded this snapshot started (a build writes whole snapshots)
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as loaded_at
from models
left join name_matches using (snapshot_date, model_id)
left join tagged using (snapshot_date, model_id)
left join genders using (snapshot_date, model_id)
left join families using (snapshot_date, model_id)
