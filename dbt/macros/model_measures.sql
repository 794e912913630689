{#
  Rules of the creators, engagement and SD 1.5 lineage measures (rule set v3). Plain SQL that
  DuckDB and Spark both run; the rules in words are the docs blocks in models/model_measures.md.
#}

{# Civitai's real-person ban: the policy of 2025-05-21, enforced by the public API from 2025-05-22. #}
{% macro real_person_ban_date() -%}
    cast('2025-05-22' as date)
{%- endmacro %}

{#
  A Civitai model's favourites, only where its API generation counts them: the 2023 `stats` carry
  favoriteCount and no thumbsUpCount; from 2024-02 favourites were replaced by thumbs up and
  favoriteCount stayed in the answer as a constant 0 (removed 2025-11-24). A 0 that only means
  "not counted any more" is no count: it is null, as it is when the answer has no favoriteCount.
#}
{% macro civitai_favourites(favorite_count, thumbs_up_count) -%}
    case when {{ thumbs_up_count }} is null then {{ favorite_count }} end
{%- endmacro %}

{#
  Downloads a model accrued between two sightings with a counter: at its first (previous is null)
  its whole counter, the downloads before hubwatch saw it; then each increase. A counter that fell
  (a deleted version, a reset, a hub correction) adds nothing: the running total never goes down
  and never counts a download twice; what fell is reported beside it (downloads_fallen).
#}
{% macro downloads_accrued(current, previous) -%}
    case
        when {{ previous }} is null then {{ current }}
        when {{ current }} >= {{ previous }} then {{ current }} - {{ previous }}
        else 0
    end
{%- endmacro %}

{% macro downloads_fallen(current, previous) -%}
    case when {{ current }} < {{ previous }} then {{ previous }} - {{ current }} else 0 end
{%- endmacro %}

{#
  The number of creators in the top `percent` per cent of n creators: n * percent / 100 rounded
  up (at least one creator when there is any), in exact integer arithmetic.
#}
{% macro top_creators(n, percent) -%}
    cast(floor(cast({{ n }} * {{ percent }} + 99 as double) / 100) as bigint)
{%- endmacro %}

{#
  Gini coefficient of non-negative counts x over n units, from sum(x) and sum(i * x) where i ranks
  the units by x ascending (1..n): (2 * sum(i*x) - (n + 1) * sum(x)) / (n * sum(x)). One division
  of two exact integers, so every engine gives the same double; null when every x is 0.
#}
{% macro gini(n, sum_x, sum_ix) -%}
    case
        when {{ sum_x }} > 0
            then cast(2 * {{ sum_ix }} - ({{ n }} + 1) * {{ sum_x }} as double) / ({{ n }} * {{ sum_x }})
    end
{%- endmacro %}

{# numerator / denominator as a double, null when the denominator is 0 or null. #}
{% macro ratio(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as double) / {{ denominator }} end
{%- endmacro %}

{#
  The SD 1.5 lineage rule (seed rules_sd15_lineage): a seed row of the model's platform names a
  base model exactly (`exact`, case-insensitive) or as a prefix (`prefix`). A model belongs to the
  lineage when its base model matches a row (it is built on SD 1.5 or a named derivative), or, on
  Hugging Face, when its own repo id does (it is one of them).
#}
{#
  Whether a model (platform, model_id, base_model: column expressions) is of a rule's lineage: its
  base model matches, or, on Hugging Face, its own repo id does. The join condition of
  int_sd15_lineage_models and of int_sd15_lineage_counts (which applies it to earlier attributes).
#}
{% macro sd15_lineage_rule_applies(rules, platform, model_id, base_model) -%}
    {{ rules }}.platform = {{ platform }}
    and (
        {{ sd15_lineage_match(rules, base_model) }}
        or ({{ platform }} = 'huggingface' and {{ sd15_lineage_match(rules, model_id) }})
    )
{%- endmacro %}

{% macro sd15_lineage_match(rules, value) -%}
    (
        ({{ rules }}.match = 'exact' and lower({{ value }}) = lower({{ rules }}.base_model))
        or (
            {{ rules }}.match = 'prefix'
            and substr(lower({{ value }}), 1, length({{ rules }}.base_model)) = lower({{ rules }}.base_model)
        )
    )
{%- endmacro %}
