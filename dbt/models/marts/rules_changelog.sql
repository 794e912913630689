-- Every change to the rules behind the measures, by rule set (the seed rules_changelog_entries).
select
    rules_version,
    changed_on,
    measure,
    change,
    reason
from {{ ref('rules_changelog_entries') }}
