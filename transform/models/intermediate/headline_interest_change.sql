{{ config(materialized='table') }}
-- Kind interest_change: the change in the combined mean daily views of a prediction's member articles, each window
-- against the same days a year earlier; the evidence adds what its other sources say.
with {{ headline_inputs('interest_change', 'trends', {'interest': 'member'}, measure='yoy') }}

{{ judge_headline('trends', ['interest'],
    headline_value='interest.total_change_pct',
    is_sufficient='coalesce(interest.is_sufficient, false)',
    clause=basket_sentence('interest', "'Combined mean daily Wikipedia views'", 'windows.vs_phrase',
        label_one="'mean daily Wikipedia views'")) }}
