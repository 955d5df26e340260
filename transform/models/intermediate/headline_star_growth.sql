{{ config(materialized='table') }}
-- Kind star_growth: the summed star growth of a prediction's member repos inside each window: all their stars at
-- its end over all their stars at its start, for the repos with a count near both ends.
with {{ headline_inputs('star_growth', 'github', {'stars': 'member'}) }}

{{ judge_headline('github', ['stars'],
    headline_value='stars.total_change_pct',
    is_sufficient='coalesce(stars.is_sufficient, false)',
    clause=basket_sentence('stars', "coalesce('Summed stars of the ' || windows.repo_group, 'Summed stars')",
        'windows.over_phrase', label_one="'stars'")) }}
