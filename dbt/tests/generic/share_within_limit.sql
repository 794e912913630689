{#
  A data-quality limit as a share: the rows where `part` exceeds `max_share` of `whole` AND
  exceeds `min_part` (so a handful of odd items in a small snapshot never fails a build, while a
  parser that silently loses a whole field does). For counts of what the hubs send, e.g.
  undatable items per snapshot; see the data_tests docs block.
#}
{% test share_within_limit(model, part, whole, max_share, min_part=0) %}
select *
from {{ model }}
where {{ part }} > {{ min_part }} and {{ part }} > {{ max_share }} * {{ whole }}
{% endtest %}
