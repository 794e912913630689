{#
  The real-person and gender rules, written once for both platforms (the hash tier: hash_tier.sql).
  Each takes the name of a CTE and returns a SELECT over it.
#}

{# Tier 3: whole-word n-grams (snapshot_date, model_id, ngram) equal to a public figure's name. #}
{% macro real_person_name_matches(ngrams) -%}
    select {{ ngrams }}.snapshot_date, {{ ngrams }}.model_id, {{ list_agg_distinct_sorted('names.name') }} as matched_names
    from {{ ngrams }}
    inner join {{ ref('int_real_person_names') }} as names on names.name_key = {{ ngrams }}.ngram
    group by all
{%- endmacro %}

{# Tier 2: a tag (snapshot_date, model_id, tag) in Civitai's real-person tag set. #}
{% macro real_person_tagged(tags) -%}
    select distinct {{ tags }}.snapshot_date, {{ tags }}.model_id
    from {{ tags }}
    inner join {{ ref('rules_real_person_tags') }} as rules on rules.tag = {{ tags }}.tag
{%- endmacro %}

{# Gender signals from tokens (snapshot_date, model_id, token): female and/or male terms seen. #}
{% macro gender_signals(tokens) -%}
    select
        {{ tokens }}.snapshot_date,
        {{ tokens }}.model_id,
        bool_or(terms.gender = 'female') as has_female,
        bool_or(terms.gender = 'male') as has_male
    from {{ tokens }}
    inner join {{ ref('rules_gender_terms') }} as terms on terms.term = {{ tokens }}.token
    group by all
{%- endmacro %}

{# The target's gender: one gender stated and not the other; anything else is unknown. #}
{% macro target_gender(signals) -%}
    case
        when {{ signals }}.has_female and not {{ signals }}.has_male then 'female'
        when {{ signals }}.has_male and not {{ signals }}.has_female then 'male'
        else 'unknown'
    end
{%- endmacro %}
