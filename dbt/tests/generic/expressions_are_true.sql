{#
  Every row satisfies each of these expressions (invariants between columns), as one
  expression_is_true test each would check, in one test node and one scan of the table: an
  aggregate counts the rows where each expression is false (null, as in `where not (...)`, is not
  a failure), and the test returns a row per expression that has any (`expression`, `n_false`),
  so a failure still says which invariant broke (the build record and `hubwatch build`'s error
  line quote those rows). dbt's failure count is the number of such rows over all expressions.
#}
{% test expressions_are_true(model, expressions) %}
{{ config(fail_calc = 'coalesce(sum(n_false), 0)') }}
{%- set counts = [] -%}
{%- for expression in expressions %}{% do counts.append('sum(case when not (' ~ expression ~ ') then 1 else 0 end)') %}{% endfor -%}
{{ counted_per_name(model, expressions, counts, 'expression', 'n_false') }}
{% endtest %}
