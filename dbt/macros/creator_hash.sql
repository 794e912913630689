{#
  Creator names leave the warehouse only as salted SHA-256 hashes. The salt lives in
  $HUBWATCH_HOME/secrets/creator_salt (made once by `hubwatch build`), outside every package,
  and is read at run time, so it is in no compiled SQL and no log.
#}
{% macro creator_hash(username) -%}
    case when {{ username }} is null then null
         else sha256((select trim(content) from read_text('{{ env_var("HUBWATCH_HOME") }}/secrets/creator_salt')) || {{ username }})
    end
{%- endmacro %}
