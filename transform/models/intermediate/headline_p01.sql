-- P01 headline: the change in mean daily interest in the P01 articles, prediction year vs baseline year; the
-- evidence adds the registered repos' star growth and the registered tickers' returns over the prediction year.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

interest as (
    select * from {{ basket('P01', 'trends', 'settings.baseline_year', 'settings.prediction_year') }}
    where role = 'member'
),

stars as (
    select * from {{ basket('P01', 'github', 'settings.prediction_year') }}
    where role = 'member'
),

prices as (
    select * from {{ basket('P01', 'stocks', 'settings.prediction_year') }}
    where role = 'member'
),

judged as (
    select
        interest.total_change_pct as headline_value,
        coalesce(interest.is_sufficient, false) as is_sufficient,
        concat_ws('; ',
            {{ basket_sentence('interest', "'Combined mean daily Wikipedia views'",
                "format('in {} vs {}', settings.prediction_year, settings.baseline_year)",
                label_one="'mean daily Wikipedia views'") }},
            case when stars.role is not null then {{ basket_sentence('stars', "'summed stars'",
                "format('over {}', settings.prediction_year)", label_one="'stars'") }} end,
            case when prices.role is not null then {{ basket_sentence('prices', "'mean price return'",
                "format('over {}', settings.prediction_year)", label_one="'price return'",
                value='mean_change_pct') }} end
        ) as clauses,
        coalesce(interest.input_signals, []) || coalesce(stars.input_signals, [])
            || coalesce(prices.input_signals, []) as input_signals
    from settings
    left join interest on true
    left join stars on true
    left join prices on true
)

select
    'P01' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
