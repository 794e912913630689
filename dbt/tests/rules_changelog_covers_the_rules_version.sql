-- The rule set the measures are built under has its entry in the changelog.
select '{{ var("rules_version") }}' as rules_version
where not exists (
    select 1 from {{ ref('rules_changelog_entries') }} where rules_version = '{{ var("rules_version") }}'
)
