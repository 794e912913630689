{#
  Creator names leave the warehouse only as salted SHA-256 hashes. The salt lives in
  $HUBWATCH_HOME/secrets/creator_salt (made once by `hubwatch build`), outside every package, and
  is read at run time, so it is in no compiled SQL and no log.
#}
{% macro creator_hash(username) -%}
    case when {{ username }} is null then null
         else {{ sha256_hex('trim(' ~ file_text(creator_salt_path()) ~ ') || ' ~ username) }}
    end
{%- endmacro %}

{#
  The salt's path: the var creator_salt_path when given (Spark's build passes it), else under the
  home dbt runs for ($HUBWATCH_HOME, which `hubwatch build` sets for dbt), read at run time only:
  the home's path is then in no var and no parsed file, so a parse serves every home.
#}
{% macro creator_salt_path() -%}
    {%- if var("creator_salt_path") -%}
        {{ return(var("creator_salt_path")) }}
    {%- elif execute -%}
        {{ return(env_var("HUBWATCH_HOME", "data") ~ "/secrets/creator_salt") }}
    {%- else -%}
        {{ return("secrets/creator_salt") }}
    {%- endif -%}
{%- endmacro %}
