-- P13 headline: the mean price return of the usage-priced basket minus the seat-priced basket's over the
-- prediction year (split-adjusted closes; each basket equally weighted).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

returns as (
    select * from {{ basket('P13', 'stocks', 'settings.prediction_year') }}
),

usage as (select * from returns where role = 'usage'),
seat as (select * from returns where role = 'seat'),

judged as (
    select
        usage.mean_change_pct - seat.mean_change_pct as headline_value,
        coalesce(usage.is_sufficient and seat.is_sufficient, false) as is_sufficient,
        case
            when usage.is_sufficient and seat.is_sufficient then format(
                'Usage-priced basket {:+.1f}% over {} ({}) vs seat-priced basket {:+.1f}% ({}): spread {:+.1f} pp{}',
                usage.mean_change_pct, settings.prediction_year, usage.detail, seat.mean_change_pct, seat.detail,
                usage.mean_change_pct - seat.mean_change_pct,
                coalesce('; left out: ' || nullif(concat_ws(', ', usage.gaps, seat.gaps), ''), ''))
            else concat_ws('; ',
                {{ basket_sentence('usage', "'Usage-priced basket'", "format('over {}', settings.prediction_year)",
                    label_one="'price return'", value='mean_change_pct') }},
                {{ basket_sentence('seat', "'seat-priced basket'", "format('over {}', settings.prediction_year)",
                    label_one="'price return'", value='mean_change_pct') }})
        end as clauses,
        coalesce(usage.input_signals, []) || coalesce(seat.input_signals, []) as input_signals
    from settings
    left join usage on true
    left join seat on true
)

select
    'P13' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
