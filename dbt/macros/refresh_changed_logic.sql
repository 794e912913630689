{#- Whether a model (or seed) is rebuilt whole instead of incrementally: dbt's own rule (the model's
    `full_refresh` config, else `--full-refresh`), and also when `hubwatch build` lists it in the var
    `refresh_models` because the logic that built its rows has changed since (an upgrade:
    dagster_project/model_logic.py). It overrides dbt's macro of the same name, which dbt's
    incremental materialisations (DuckDB's and Spark's) and `is_incremental()` call. -#}
{% macro should_full_refresh() %}
  {% set config_full_refresh = config.get('full_refresh') %}
  {% if config_full_refresh is none %}
    {% set config_full_refresh = flags.FULL_REFRESH or model.unique_id in var('refresh_models', []) %}
  {% endif %}
  {% do return(config_full_refresh) %}
{% endmacro %}
