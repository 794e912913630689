-- Models of the SD 1.5 lineage (seed rules_sd15_lineage, macro sd15_lineage_match): built on SD 1.5,
-- a mirror or a named derivative (their base model matches), or on Hugging Face one of those repos
-- itself. By each model's latest attributes; a model matching several rows counts once, with the
-- first relation in the order SD 1.5, mirror, named derivative.
with models as (
    select platform, model_id, base_model from {{ ref('models') }}
),

rules as (
    select * from {{ ref('rules_sd15_lineage') }}
),

matches as (
    select
        models.platform,
        models.model_id,
        rules.relation,
        {{ sd15_lineage_match('rules', 'models.model_id') }} and models.platform = 'huggingface' as is_named
    from models
    inner join rules
        on {{ sd15_lineage_rule_applies('rules', 'models.platform', 'models.model_id', 'models.base_model') }}
),

ranked as (
    select
        platform,
        model_id,
        relation,
        is_named,
        row_number() over (
            partition by platform, model_id
            order by
                case when is_named then 0 else 1 end,
                case relation when 'SD 1.5' then 0 when 'mirror' then 1 else 2 end
        ) as preference
    from matches
)

select platform, model_id, relation, is_named
from ranked
where preference = 1
