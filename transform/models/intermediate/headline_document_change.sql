{{ config(materialized='table') }}
-- Kind document_change: the change in Federal Register documents found by a prediction's search terms, each
-- window against the same days a year earlier; the evidence adds what its other sources say.
with {{ headline_inputs('document_change', 'regulatory', {'documents': 'member'}) }}

{% set clause %}
case
    when documents.is_sufficient and documents.registered = 1 then format(
        'Federal Register documents matching "{}": {:,} in {} vs {:,} in {} ({:+.1f}%)',
        documents.signals, cast(documents.to_total as bigint), windows.label,
        cast(documents.from_total as bigint), windows.prior_label, documents.total_change_pct)
    else {{ basket_sentence('documents', "'Federal Register documents'", 'windows.vs_phrase',
        label_one="'Federal Register documents matching \"{}\"'") }}
end
{% endset %}

{{ judge_headline('regulatory', ['documents'],
    headline_value='documents.total_change_pct',
    is_sufficient='coalesce(documents.is_sufficient, false)',
    clause=clause) }}
