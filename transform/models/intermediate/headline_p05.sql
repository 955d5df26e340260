-- P05 headline: how much interest the P05 devices kept: mean daily views in the last quarter of the prediction year
-- as a share of each article's peak month up to then, averaged over the articles.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

interest as (
    select * from {{ basket('P05', 'trends', 'settings.prediction_year', measure='last_quarter_share_pct',
        detail="format('{} {:.1f}% of its {} peak', per_signal.signal, per_signal.change_pct,
            strftime(per_signal.peak_period, '%Y-%m'))") }}
    where role = 'member'
),

prices as (
    select * from {{ basket('P05', 'stocks', 'settings.prediction_year') }}
    where role = 'member'
),

judged as (
    select
        interest.mean_change_pct as headline_value,
        coalesce(interest.is_sufficient, false) as is_sufficient,
        concat_ws('; ',
            {{ basket_sentence('interest',
                "'Average share of peak-month interest kept in the last quarter'",
                "format('in {}', settings.prediction_year)",
                label_one="'Share of {}''s peak-month interest kept in the last quarter'",
                value='mean_change_pct', number="'{:.1f}%'") }},
            case when prices.role is not null then {{ basket_sentence('prices', "'mean price return'",
                "format('over {}', settings.prediction_year)", label_one="'price return'",
                value='mean_change_pct') }} end
        ) as clauses,
        coalesce(interest.input_signals, []) || coalesce(prices.input_signals, []) as input_signals
    from settings
    left join interest on true
    left join prices on true
)

select
    'P05' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
