-- P12 headline: interest in the agent marketplace in the last quarter of the prediction year as a share of its
-- peak month up to then. When no member article has enough data (GPT_Store is a 404), the signals the registry
-- gives the `proxy` role (ChatGPT) stand in, and the evidence says so.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

share as (
    select * from {{ basket('P12', 'trends', 'settings.prediction_year', measure='last_quarter_share_pct',
        detail="format('{} {:.1f}% of its {} peak', per_signal.signal, per_signal.change_pct,
            strftime(per_signal.peak_period, '%Y-%m'))") }}
),

members as (select * from share where role = 'member'),
proxies as (select * from share where role = 'proxy'),

judged as (
    select
        case when members.is_sufficient then members.mean_change_pct else proxies.mean_change_pct end
            as headline_value,
        coalesce(members.is_sufficient or proxies.is_sufficient, false) as is_sufficient,
        case
            when members.is_sufficient then {{ basket_sentence('members',
                "'Average share of peak-month interest kept in the last quarter'",
                "format('in {}', settings.prediction_year)",
                label_one="'Share of {}''s peak-month interest kept in the last quarter'",
                value='mean_change_pct', number="'{:.1f}%'") }}
            else concat_ws('; ',
                'No usable data for ' || coalesce(members.gaps, 'a member article (none is registered)'),
                case
                    when proxies.is_sufficient then format(
                        '{} used as a proxy: interest kept in the last quarter of {} as a share of the peak month: {}{}',
                        proxies.signals, settings.prediction_year, proxies.detail,
                        case when proxies.covered > 1 then format(' (mean {:.1f}%)', proxies.mean_change_pct) else '' end)
                    when proxies.role is not null then 'proxy: ' || {{ basket_sentence('proxies',
                        "'average share of peak-month interest kept in the last quarter'",
                        "format('in {}', settings.prediction_year)",
                        label_one="'share of {}''s peak-month interest kept in the last quarter'",
                        value='mean_change_pct', number="'{:.1f}%'") }}
                end)
        end as clauses,
        case
            when members.is_sufficient then members.input_signals else coalesce(proxies.input_signals, [])
        end as input_signals
    from settings
    left join members on true
    left join proxies on true
)

select
    'P12' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
