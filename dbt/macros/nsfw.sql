{#
  NSFW rules (rule set v1, unchanged in v2). Civitai levels are bit flags: 1 PG, 2 PG-13, 4 R, 8 X, 16 XXX, 32 Blocked.
  "any" = PG-13 or above (the API's own image `nsfw` boolean, comparable with Civiverse);
  "strict" = R or above (Civitai's own NSFW group); "explicit" = X or XXX.
  Models: a bit in the model's nsfwLevel bitmask, or the creator/moderator `nsfw` toggle.
  Images: the single browsingLevel alone (the `nsfw` boolean and the nsfwLevel label are lossy).
  Hugging Face: the `not-for-all-audiences` (or `nsfw`) tag sets both.
#}
{% macro nsfw_any_mask() %}62{% endmacro %}
{% macro nsfw_strict_mask() %}60{% endmacro %}
{% macro nsfw_explicit_mask() %}24{% endmacro %}

{% macro civitai_model_nsfw(level, toggle, mask) -%}
    (coalesce({{ toggle }}, false) or coalesce(({{ level }} & {{ mask }}) <> 0, false))
{%- endmacro %}

{% macro civitai_image_nsfw(level, mask) -%}
    coalesce(({{ level }} & {{ mask }}) <> 0, false)
{%- endmacro %}

{% macro hf_nsfw(tags) -%}
    coalesce({{ list_has_any(tags, list_of(["'not-for-all-audiences'", "'nsfw'"])) }}, false)
{%- endmacro %}
