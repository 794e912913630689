{#
  Creator names leave the warehouse only as salted SHA-256 hashes. The salt lives in
  $HUBWATCH_HOME/secrets/creator_salt (made once by `hubwatch build`, which passes its path as the
  var `creator_salt_path`), outside every package, and is read at run time, so it is in no
  compiled SQL and no log.
#}
{% macro creator_hash(username) -%}
    case when {{ username }} is null then null
         else {{ sha256_hex('trim(' ~ file_text(var("creator_salt_path")) ~ ') || ' ~ username) }}
    end
{%- endmacro %}
