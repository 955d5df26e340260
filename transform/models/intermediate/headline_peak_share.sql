{{ config(materialized='table') }}
-- Kind peak_share: how much interest the member articles kept: mean daily views in the last quarter of each window
-- as a share of each article's peak month up to then, averaged over the articles. When no member has enough data
-- and the registry gives the prediction a `proxy` (e.g. ChatGPT for a GPT_Store article that answers 404), the
-- proxy stands in, and the evidence says so.
with {{ headline_inputs('peak_share', 'trends', {'members': 'member', 'proxies': 'proxy'}, measure='peak_share') }}

{#- The members speak for themselves when they have enough data or there is no proxy to stand in. -#}
{% set members_count = 'members.is_sufficient or proxies.role is null' %}

{% set clause %}
case
    when {{ members_count }} then {{ basket_sentence('members',
        "'Average share of peak-month interest kept in the last quarter'", 'windows.in_phrase',
        label_one="'Share of {}''s peak-month interest kept in the last quarter'",
        value='mean_change_pct', number="'{:.1f}%'") }}
    else concat_ws('; ',
        'No usable data for ' || coalesce(members.gaps, 'a member article (none is registered)'),
        case
            when proxies.is_sufficient then format(
                '{} used as a proxy: interest kept in the last quarter {} as a share of the peak '
                || 'month: {}{}', proxies.signals, windows.of_phrase, proxies.detail,
                case when proxies.covered > 1 then format(' (mean {:.1f}%)', proxies.mean_change_pct)
                    else '' end)
            else 'proxy: ' || {{ basket_sentence('proxies',
                "'average share of peak-month interest kept in the last quarter'", 'windows.in_phrase',
                label_one="'share of {}''s peak-month interest kept in the last quarter'",
                value='mean_change_pct', number="'{:.1f}%'") }}
        end)
end
{% endset %}

{{ judge_headline('trends', ['members', 'proxies'],
    headline_value='case when members.is_sufficient then members.mean_change_pct else proxies.mean_change_pct end',
    is_sufficient='coalesce(members.is_sufficient or proxies.is_sufficient, false)',
    registered='case when ' ~ members_count ~ ' then members.registered else proxies.registered end',
    covered='case when ' ~ members_count ~ ' then members.covered else proxies.covered end',
    input_signals='case when members.is_sufficient then members.input_signals '
        ~ 'else coalesce(proxies.input_signals, []) end',
    clause=clause) }}
