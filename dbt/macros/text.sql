{#
  Whole-word matching without regular expressions over every name: text is lower-cased, every
  run of characters that are not letters or digits becomes one space, and the words are cut
  into n-grams of 1 to 4 words. A name matches when it equals one of those n-grams, so "Ann"
  never matches "Annabel" and matching stays an equi-join that scales with the data.
#}
{% macro normalise_text(expr) -%}
    trim(regexp_replace(lower({{ expr }}), '[^\pL\pN]+', ' ', 'g'))
{%- endmacro %}

{% macro word_ngrams(words) -%}
    list_distinct(flatten([
        [array_to_string({{ words }}[i:i + n - 1], ' ') for i in range(1, len({{ words }}) - n + 2)]
        for n in range(1, 5)
    ]))
{%- endmacro %}

{% macro words_of(expr) -%}
    list_filter(string_split({{ normalise_text(expr) }}, ' '), lambda w: w <> '')
{%- endmacro %}
