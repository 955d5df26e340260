-- P09 headline: the change in the ratio of the challenger's to the incumbent's mean daily views (e.g. ChatGPT vs
-- Google_Search), prediction year vs baseline year; the evidence adds the registered tickers against their
-- benchmark over the prediction year.
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

interest as (
    select * from {{ basket('P09', 'trends', 'settings.baseline_year', 'settings.prediction_year') }}
),

challenger as (select * from interest where role = 'challenger'),
incumbent as (select * from interest where role = 'incumbent'),

prices as (
    select * from {{ basket('P09', 'stocks', 'settings.prediction_year') }}
),

stock as (select * from prices where role = 'member'),
benchmark as (select * from prices where role = 'benchmark'),

ratios as (
    select
        challenger.from_total / incumbent.from_total as ratio_before,
        challenger.to_total / incumbent.to_total as ratio_after,
        coalesce(challenger.is_sufficient and incumbent.is_sufficient, false) as is_sufficient
    from settings
    left join challenger on true
    left join incumbent on true
),

judged as (
    select
        100 * (ratios.ratio_after / ratios.ratio_before - 1) as headline_value,
        ratios.is_sufficient,
        concat_ws('; ',
            case
                when ratios.is_sufficient then format(
                    '{}/{} mean daily views ratio {:.2f} in {} → {:.2f} in {} ({:+.1f}%)',
                    challenger.signals, incumbent.signals, ratios.ratio_before, settings.baseline_year,
                    ratios.ratio_after, settings.prediction_year, 100 * (ratios.ratio_after / ratios.ratio_before - 1))
                else concat_ws('; ',
                    {{ basket_sentence('challenger', "'Challenger views'",
                        "format('in {} vs {}', settings.prediction_year, settings.baseline_year)",
                        label_one="'mean daily Wikipedia views'") }},
                    {{ basket_sentence('incumbent', "'incumbent views'",
                        "format('in {} vs {}', settings.prediction_year, settings.baseline_year)",
                        label_one="'mean daily Wikipedia views'") }})
            end,
            case
                when stock.is_sufficient and benchmark.is_sufficient then format(
                    '{} {:+.1f}% vs benchmark {} {:+.1f}% over {}', stock.signals, stock.mean_change_pct,
                    benchmark.signals, benchmark.mean_change_pct, settings.prediction_year)
                when stock.role is not null then {{ basket_sentence('stock', "'mean price return'",
                    "format('over {}', settings.prediction_year)", label_one="'price return'",
                    value='mean_change_pct') }}
            end
        ) as clauses,
        coalesce(challenger.input_signals, []) || coalesce(incumbent.input_signals, [])
            || coalesce(stock.input_signals, []) || coalesce(benchmark.input_signals, []) as input_signals
    from settings
    cross join ratios
    left join challenger on true
    left join incumbent on true
    left join stock on true
    left join benchmark on true
)

select
    'P09' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
