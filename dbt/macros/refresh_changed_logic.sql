{#- Whether a model (or seed) is rebuilt whole instead of incrementally: dbt's own rule (the model's
    `full_refresh` config, else `--full-refresh`), and also when `hubwatch build` lists it because the
    logic that built its rows has changed since (an upgrade: dagster_project/model_logic.py): in the
    env var HUBWATCH_DBT_REFRESH (a JSON list, read at run time only: a var that comes and goes
    would make dbt parse the whole project again) or, on Spark, the var `refresh_models`. It overrides dbt's macro of the same name, which dbt's
    incremental materialisations (DuckDB's and Spark's) and `is_incremental()` call. -#}
{% macro should_full_refresh() %}
  {% set config_full_refresh = config.get('full_refresh') %}
  {% if config_full_refresh is none %}
    {% set listed = var('refresh_models', []) + fromjson(env_var('HUBWATCH_DBT_REFRESH', '[]')) %}
    {% set config_full_refresh = flags.FULL_REFRESH or model.unique_id in listed %}
  {% endif %}
  {% do return(config_full_refresh) %}
{% endmacro %}
