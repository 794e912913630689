{#
  Whole-word matching without regular expressions over every name: text is lower-cased, every
  run of characters that are not letters or digits becomes one space, and the words are cut
  into n-grams of 1 to 4 words. A name matches when it equals one of those n-grams, so "Ann"
  never matches "Annabel" and matching stays an equi-join that scales with the data.
#}
{% macro normalise_text(expr) -%}
    trim({{ regexp_replace_all('lower(' ~ expr ~ ')', '[^\\pL\\pN]+', ' ') }})
{%- endmacro %}

{# The distinct n-grams (1 to 4 words) of a list of words, as texts. #}
{% macro word_ngrams(words) %}{{ return(adapter.dispatch('word_ngrams')(words)) }}{% endmacro %}

{% macro duckdb__word_ngrams(words) -%}
    list_distinct(flatten([
        [array_to_string({{ words }}[i:i + n - 1], ' ') for i in range(1, len({{ words }}) - n + 2)]
        for n in range(1, 5)
    ]))
{%- endmacro %}

{# sequence(1, 0) counts down in Spark, so the start positions are filtered, not ranged. #}
{% macro spark__word_ngrams(words) -%}
    array_distinct(flatten(transform(sequence(1, 4), n -> transform(
        filter(sequence(1, greatest(size({{ words }}), 1)), i -> i + n - 1 <= size({{ words }})),
        i -> array_join(slice({{ words }}, i, n), ' ')
    ))))
{%- endmacro %}

{% macro words_of(expr) -%}
    {{ list_filter(split_text(normalise_text(expr), ' '), 'w', "w <> ''") }}
{%- endmacro %}
