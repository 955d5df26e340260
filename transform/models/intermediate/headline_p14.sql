-- P14 headline: the change in Federal Register documents found by the P14 search terms (digital identity), prediction
-- year vs baseline year; the evidence adds interest in the registered articles, Hacker News stories matching the registered phrases
-- and the registered tickers' returns.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

documents as (
    select * from {{ basket('P14', 'regulatory', 'settings.baseline_year', 'settings.prediction_year',
        detail="format('\"{}\" {:+.1f}%', per_signal.signal, per_signal.change_pct)") }}
    where role = 'member'
),

interest as (
    select * from {{ basket('P14', 'trends', 'settings.baseline_year', 'settings.prediction_year') }}
    where role = 'member'
),

prices as (
    select * from {{ basket('P14', 'stocks', 'settings.prediction_year') }}
    where role = 'member'
),

news as (
    select * from {{ basket('P14', 'news', 'settings.baseline_year', 'settings.prediction_year',
        detail="format('\"{}\" {:+.1f}%', per_signal.signal, per_signal.change_pct)") }}
    where role = 'member'
),

judged as (
    select
        documents.total_change_pct as headline_value,
        coalesce(documents.is_sufficient, false) as is_sufficient,
        concat_ws('; ',
            case
                when documents.is_sufficient and documents.registered = 1 then format(
                    'Federal Register documents matching "{}": {:,} in {} vs {:,} in {} ({:+.1f}%)',
                    documents.signals, cast(documents.to_total as bigint),
                    settings.prediction_year, cast(documents.from_total as bigint), settings.baseline_year,
                    documents.total_change_pct)
                else {{ basket_sentence('documents', "'Federal Register documents'",
                    "format('in {} vs {}', settings.prediction_year, settings.baseline_year)",
                    label_one="'Federal Register documents matching \"{}\"'") }}
            end,
            case when interest.role is not null then {{ basket_sentence('interest',
                "'combined mean daily Wikipedia views'",
                "format('in {} vs {}', settings.prediction_year, settings.baseline_year)",
                label_one="'mean daily Wikipedia views'") }} end,
            case when news.role is not null then {{ basket_sentence('news', "'Hacker News stories'",
                "format('in {} vs {}', settings.prediction_year, settings.baseline_year)",
                label_one="'Hacker News stories matching \"{}\"'") }} end,
            case when prices.role is not null then {{ basket_sentence('prices', "'mean price return'",
                "format('over {}', settings.prediction_year)", label_one="'price return'",
                value='mean_change_pct') }} end
        ) as clauses,
        coalesce(documents.input_signals, []) || coalesce(interest.input_signals, [])
            || coalesce(news.input_signals, []) || coalesce(prices.input_signals, []) as input_signals
    from settings
    left join documents on true
    left join interest on true
    left join news on true
    left join prices on true
)

select
    'P14' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
